import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Role } from 'src/organizations/organizations.enums';

export interface UserRow {
  id: string;
  email: string;
  name: string;
}

export interface ApiKeyRow {
  id: string;
  organizationId: string;
  name: string;
  prefix: string;
  permissions: string[];
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
}

export interface MembershipRow {
  organizationId: string;
  organizationSlug: string;
  organizationName: string;
  role: Role;
}

/** TypeORM answers an UPDATE ... RETURNING on PostgreSQL with `[rows, affectedCount]`. */
function returnedRows<T>(result: unknown): T[] {
  const r = result as unknown[];
  return (Array.isArray(r[0]) ? r[0] : r) as T[];
}

const API_KEY_COLUMNS = `id, organization_id AS "organizationId", name, prefix, permissions, created_by AS "createdBy",
  created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt", expires_at AS "expiresAt"`;

/**
 * The auth layer's SQL. It reads `users`, `memberships`, `organizations` and `api_keys` before any organization
 * context exists, which is why those four tables carry no row-level security policy (docs/security.md); every
 * query here names its organization or user explicitly.
 */
@Injectable()
export class AuthRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findUserById(id: string): Promise<UserRow | null> {
    const rows: UserRow[] = await this.dataSource.query(`SELECT id, email, name FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findUserBySubject(subject: string): Promise<UserRow | null> {
    const rows: UserRow[] = await this.dataSource.query(`SELECT id, email, name FROM users WHERE external_subject = $1`, [subject]);
    return rows[0] ?? null;
  }

  /** First sign-in of a pre-provisioned user: binds the identity provider's subject to the user with that email. */
  async bindSubjectByEmail(email: string, subject: string): Promise<UserRow | null> {
    const result: unknown = await this.dataSource.query(
      `UPDATE users SET external_subject = $2, updated_at = now() WHERE email = $1 AND external_subject IS NULL RETURNING id, email, name`,
      [email.toLowerCase(), subject],
    );
    return returnedRows<UserRow>(result)[0] ?? null;
  }

  async findMembershipRole(userId: string, organizationId: string): Promise<Role | null> {
    const rows: { role: Role }[] = await this.dataSource.query(
      `SELECT role FROM memberships WHERE user_id = $1 AND organization_id = $2`,
      [userId, organizationId],
    );
    return rows[0]?.role ?? null;
  }

  listMemberships(userId: string): Promise<MembershipRow[]> {
    return this.dataSource.query(
      `SELECT o.id AS "organizationId", o.slug AS "organizationSlug", o.name AS "organizationName", m.role
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE m.user_id = $1
        ORDER BY o.slug`,
      [userId],
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null> {
    const rows: ApiKeyRow[] = await this.dataSource.query(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
    return rows[0] ?? null;
  }

  /** Records use at most once a minute per key, so that a busy integration does not write on every request. */
  async touchApiKey(id: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
      [id, now],
    );
  }

  async insertApiKey(key: {
    organizationId: string;
    name: string;
    prefix: string;
    keyHash: string;
    permissions: string[];
    createdBy: string | null;
    expiresAt: Date | null;
    now: Date;
  }): Promise<ApiKeyRow> {
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `INSERT INTO api_keys (organization_id, name, prefix, key_hash, permissions, created_by, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       RETURNING ${API_KEY_COLUMNS}`,
      [key.organizationId, key.name, key.prefix, key.keyHash, key.permissions, key.createdBy, key.expiresAt, key.now],
    );
    return rows[0];
  }

  listApiKeys(organizationId: string): Promise<ApiKeyRow[]> {
    return this.dataSource.query(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE organization_id = $1 ORDER BY created_at DESC, id`,
      [organizationId],
    );
  }

  /** Revokes a key of this organization; false when there is no such (unrevoked) key. */
  async revokeApiKey(organizationId: string, id: string, now: Date): Promise<boolean> {
    const result: unknown = await this.dataSource.query(
      `UPDATE api_keys SET revoked_at = $3, updated_at = $3 WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`,
      [organizationId, id, now],
    );
    return returnedRows<{ id: string }>(result).length > 0;
  }
}
