import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { AuthRepository } from 'src/auth/auth.repository';
import { MeResponse } from 'src/auth/dto/me.response';
import { ROLE_PERMISSIONS } from 'src/auth/permissions';
import { ProblemException } from 'src/common/problem/problem';

@Injectable()
export class MeService {
  constructor(private readonly repo: AuthRepository) {}

  async get(auth: AuthContext): Promise<MeResponse> {
    const user = await this.repo.findUserById(auth.actor.id);
    if (!user) throw ProblemException.unauthorized("The token's subject is not a user of this service");
    const memberships = await this.repo.listMemberships(user.id);
    return {
      user: { id: user.id, email: user.email, name: user.name },
      memberships: memberships.map((m) => ({
        organization_id: m.organizationId,
        organization_slug: m.organizationSlug,
        organization_name: m.organizationName,
        role: m.role,
        permissions: [...ROLE_PERMISSIONS[m.role]],
      })),
    };
  }
}
