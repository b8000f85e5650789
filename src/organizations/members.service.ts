import { HttpStatus, Injectable } from '@nestjs/common';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { AuthContext } from 'src/auth/auth-context';
import { IdentityService } from 'src/auth/identity.service';
import { ROLE_PERMISSIONS } from 'src/auth/permissions';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { AddMemberDto } from 'src/organizations/dto/member.dto';
import { MemberListResponse, MemberResponse } from 'src/organizations/dto/member.response';
import { MemberRow, MembersRepository } from 'src/organizations/members.repository';
import { Role } from 'src/organizations/organizations.enums';

function toResponse(m: MemberRow): MemberResponse {
  return {
    user_id: m.userId,
    email: m.email,
    name: m.name,
    role: m.role,
    permissions: [...ROLE_PERMISSIONS[m.role]],
    member_since: new Date(m.createdAt).toISOString(),
  };
}

const notFound = (): ProblemException => ProblemException.notFound(ProblemCode.NotFound, 'No member with this user id in this organization');
const conflict = (detail: string): ProblemException => new ProblemException(ProblemCode.Conflict, HttpStatus.CONFLICT, detail);

/** Members and their roles (`org:manage`). An organization always keeps at least one owner. */
@Injectable()
export class MembersService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repo: MembersRepository,
    private readonly identity: IdentityService,
  ) {}

  async list(auth: AuthContext): Promise<MemberListResponse> {
    return { items: (await this.tenantDb.statements(auth.organizationId, (db) => this.repo.list(db))).map(toResponse) };
  }

  async add(auth: AuthContext, dto: AddMemberDto): Promise<MemberResponse> {
    const email = dto.email.trim().toLowerCase();
    const member = await this.tenantDb.transaction(auth.organizationId, async (m) => {
      const userId = await this.repo.ensureUser(m, email, dto.name ?? email.split('@')[0]);
      if (!(await this.repo.insert(m, userId, dto.role))) throw conflict('This person is already a member; change the role with PATCH');
      return this.repo.find(m, userId);
    });
    // The person may be cached here as a member of other organizations (IdentityService reads a user's memberships
    // together): forgotten, so that the new membership works on their next request.
    this.identity.forgetMembership((member as MemberRow).userId, auth.organizationId);
    return toResponse(member as MemberRow);
  }

  async changeRole(auth: AuthContext, userId: string, role: Role): Promise<MemberResponse> {
    const member = await this.tenantDb.transaction(auth.organizationId, async (m) => {
      await this.keepAnOwner(m, userId, role);
      const current = await this.repo.find(m, userId);
      if (!current) throw notFound();
      await this.repo.setRole(m, userId, role);
      return { ...current, role };
    });
    this.identity.forgetMembership(userId, auth.organizationId);
    return toResponse(member);
  }

  async remove(auth: AuthContext, userId: string): Promise<void> {
    await this.tenantDb.transaction(auth.organizationId, async (m) => {
      await this.keepAnOwner(m, userId, null);
      if (!(await this.repo.find(m, userId))) throw notFound();
      await this.repo.remove(m, userId);
    });
    this.identity.forgetMembership(userId, auth.organizationId);
  }

  /** Refuses to demote or remove the last owner (nobody could manage the organization any more). */
  private async keepAnOwner(m: TenantSql, userId: string, newRole: Role | null): Promise<void> {
    if (newRole === Role.Owner) return;
    const owners = await this.repo.lockOwners(m);
    if (owners.length === 1 && owners[0] === userId) throw conflict('The organization needs at least one owner: make another member owner first');
  }
}
