import { ApiProperty } from '@nestjs/swagger';
import { Permission } from 'src/auth/permissions';

export class ApiKeyResponse {
  id: string;
  name: string;
  /** The key's first characters, to recognize it; the key itself is never shown again. */
  prefix: string;
  @ApiProperty({ enum: Object.values(Permission), enumName: 'Permission', isArray: true })
  permissions: Permission[];
  @ApiProperty({ type: String, format: 'date-time' })
  created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_used_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  created_by: string | null;
}

/** The answer to a key's creation: the only time the full key is shown. */
export class CreatedApiKeyResponse extends ApiKeyResponse {
  /** The key: send it as `Authorization: Bearer <key>`. Shown once; store it now. */
  key: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse] })
  items: ApiKeyResponse[];
}
