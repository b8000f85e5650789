import { ApiProperty } from '@nestjs/swagger';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

export class MeUserResponse {
  id: string;
  email: string;
  name: string;
}

export class MeMembershipResponse {
  organization_id: string;
  organization_slug: string;
  organization_name: string;
  @ApiProperty({ enum: Object.values(Role), enumName: 'Role' })
  role: Role;
  @ApiProperty({ enum: Object.values(Permission), enumName: 'Permission', isArray: true })
  permissions: Permission[];
}

/** The caller and the organizations it belongs to, with its role and permissions in each. */
export class MeResponse {
  user: MeUserResponse;
  @ApiProperty({ type: [MeMembershipResponse] })
  memberships: MeMembershipResponse[];
}
