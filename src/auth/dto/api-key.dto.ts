import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { Permission } from 'src/auth/permissions';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';

/** Permissions an integration key may carry: everything but `org:manage` (a key cannot mint keys or manage members). */
export const API_KEY_PERMISSIONS: readonly Permission[] = Object.values(Permission).filter((p) => p !== Permission.OrgManage);

export class CreateApiKeyDto {
  /** What the key is for, e.g. "EHR nightly sync". */
  @IsString()
  @Length(1, 100)
  name: string;

  /** What the key may do; `org:manage` is not grantable to a key. */
  @ApiProperty({ enum: API_KEY_PERMISSIONS, isArray: true, example: [Permission.DataWrite] })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(API_KEY_PERMISSIONS.length)
  @IsIn(API_KEY_PERMISSIONS, { each: true, message: `each value in permissions must be one of ${API_KEY_PERMISSIONS.join(', ')}` })
  permissions: Permission[];

  /** Optional expiry (ISO 8601 timestamp, in the future). */
  @IsOptional()
  @IsISO8601({ strict: true })
  expires_at?: string;
}

/** The path of one API key's routes. */
export class ApiKeyParams extends OrganizationParams {
  /** The key's id, as the key list gives it. */
  @IsUuidParam()
  keyId: string;
}
