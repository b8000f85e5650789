import { ApiProperty } from '@nestjs/swagger';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

export class MemberResponse {
  user_id: string;
  email: string;
  name: string;
  @ApiProperty({ enum: Object.values(Role), enumName: 'Role' })
  role: Role;
  @ApiProperty({ enum: Object.values(Permission), enumName: 'Permission', isArray: true })
  permissions: Permission[];
  @ApiProperty({ type: String, format: 'date-time' })
  member_since: string;
}

export class MemberListResponse {
  @ApiProperty({ type: [MemberResponse] })
  items: MemberResponse[];
}
