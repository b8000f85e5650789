import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';
import { Role } from 'src/organizations/organizations.enums';

const ROLES = Object.values(Role);

export class AddMemberDto {
  /** The person's email; a user is created for it when none exists (bound to the identity provider at first sign-in). */
  @IsEmail()
  @MaxLength(320)
  email: string;

  /** Display name for a new user (default: the email's local part). */
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiProperty({ enum: ROLES, enumName: 'Role' })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: ROLES, enumName: 'Role' })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role: Role;
}

/** The path of one member's routes. */
export class MemberParams extends OrganizationParams {
  /** The member's user id, as the member list gives it. */
  @IsUuidParam()
  userId: string;
}
