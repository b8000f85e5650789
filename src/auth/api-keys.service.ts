import { Injectable } from '@nestjs/common';
import { generateApiKey } from 'src/auth/api-key';
import { AuthContext } from 'src/auth/auth-context';
import { ApiKeyRow, ApiKeysRepository } from 'src/auth/auth.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { CreateApiKeyDto } from 'src/auth/dto/api-key.dto';
import { ApiKeyListResponse, ApiKeyResponse, CreatedApiKeyResponse } from 'src/auth/dto/api-key.response';
import { IdentityService } from 'src/auth/identity.service';
import { isPermission } from 'src/auth/permissions';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

function toResponse(row: ApiKeyRow): ApiKeyResponse {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    permissions: row.permissions.filter(isPermission),
    created_at: new Date(row.createdAt).toISOString(),
    expires_at: iso(row.expiresAt),
    last_used_at: iso(row.lastUsedAt),
    revoked_at: iso(row.revokedAt),
    created_by: row.createdBy,
  };
}

/** Integration API keys: per organization, scoped to permissions, stored as SHA-256, shown once, revocable. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repo: ApiKeysRepository,
    private readonly identity: IdentityService,
    private readonly clock: Clock,
  ) {}

  async create(auth: AuthContext, dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const now = this.clock.now();
    const expiresAt = dto.expires_at === undefined ? null : new Date(dto.expires_at);
    if (expiresAt !== null && expiresAt <= now) throw ProblemException.invalidField('body', 'expires_at', 'must be in the future');
    const { key, prefix, hash } = generateApiKey();
    const row = await this.tenantDb.statements(auth.organizationId, (db) =>
      this.repo.insert(db, {
      name: dto.name,
      prefix,
      keyHash: hash,
      permissions: [...dto.permissions].sort(),
      createdBy: auth.actor.type === 'user' ? auth.actor.id : null,
      expiresAt,
      now,
    }),
    );
    return { ...toResponse(row), key };
  }

  async list(auth: AuthContext): Promise<ApiKeyListResponse> {
    return { items: (await this.tenantDb.statements(auth.organizationId, (db) => this.repo.list(db))).map(toResponse) };
  }

  async revoke(auth: AuthContext, keyId: string): Promise<void> {
    const revoked = await this.tenantDb.statements(auth.organizationId, (db) => this.repo.revoke(db, keyId, this.clock.now()));
    if (!revoked) throw ProblemException.notFound(ProblemCode.NotFound, 'No active API key with this id in this organization');
    this.identity.forgetApiKeys();
  }
}
