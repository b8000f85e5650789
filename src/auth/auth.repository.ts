import { Injectable } from '@nestjs/common';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
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


const API_KEY_COLUMNS = `id, organization_id AS "organizationId", name, prefix, permissions, created_by AS "createdBy",
  created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt", expires_at AS "expiresAt"`;

/**
 * The auth layer's look-ups. It reads `users`, `memberships`, `organizations` and `api_keys` before any organization
 * context exists, which is why those four tables carry no row-level security policy (docs/security.md), and why
 * it goes through the cross-tenant escape hatch; every query here names its user, key or organization explicitly.
 */
@Injectable()
export class AuthRepository {
  constructor(private readonly db: CrossTenantDb) {}

  async findUserById(id: string): Promise<UserRow | null> {
    const rows = await this.db.query<UserRow>(`SELECT id, email, name FROM users WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async findUserBySubject(subject: string): Promise<UserRow | null> {
    const rows = await this.db.query<UserRow>(`SELECT id, email, name FROM users WHERE external_subject = $1`, [subject]);
    return rows[0] ?? null;
  }

  /** First sign-in of a pre-provisioned user: binds the identity provider's subject to the user with that email. */
  async bindSubjectByEmail(email: string, subject: string): Promise<UserRow | null> {
    const rows = await this.db.query<UserRow>(
      `UPDATE users SET external_subject = $2, updated_at = now() WHERE email = $1 AND external_subject IS NULL RETURNING id, email, name`,
      [email.toLowerCase(), subject],
    );
    return rows[0] ?? null;
  }

  async findMembershipRole(userId: string, organizationId: string): Promise<Role | null> {
    // Prepared on each pooled connection: the access check of every request to an organization not cached (5 s).
    const rows = await this.db.query<{ role: Role }>(`SELECT role FROM memberships WHERE user_id = $1 AND organization_id = $2`, [userId, organizationId], {
      prepare: 'auth-membership-role',
    });
    return rows[0]?.role ?? null;
  }

  /**
   * Every organization the user belongs to with the role held there, at most `limit` of them (the access check's
   * look-up of a user's memberships, cached together: IdentityService). Prepared on each pooled connection.
   */
  findMembershipRoles(userId: string, limit: number): Promise<{ organization_id: string; role: Role }[]> {
    return this.db.query<{ organization_id: string; role: Role }>(
      `SELECT organization_id, role FROM memberships WHERE user_id = $1 LIMIT $2`,
      [userId, limit],
      { prepare: 'auth-membership-roles' },
    );
  }

  listMemberships(userId: string): Promise<MembershipRow[]> {
    return this.db.query<MembershipRow>(
      `SELECT o.id AS "organizationId", o.slug AS "organizationSlug", o.name AS "organizationName", m.role
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE m.user_id = $1
        ORDER BY o.slug`,
      [userId],
    );
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null> {
    const rows = await this.db.query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
    return rows[0] ?? null;
  }

  /** Records use at most once a minute per key, so that a busy integration does not write on every request. */
  async touchApiKey(id: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
      [id, now],
    );
  }
}

/** An organization's integration API keys (`org:manage`), on its tenant handle. */
@Injectable()
export class ApiKeysRepository {
  async insert(
    db: TenantSql,
    key: { name: string; prefix: string; keyHash: string; permissions: string[]; createdBy: string | null; expiresAt: Date | null; now: Date },
  ): Promise<ApiKeyRow> {
    const rows = await db.query<ApiKeyRow>(
      `INSERT INTO api_keys (organization_id, name, prefix, key_hash, permissions, created_by, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       RETURNING ${API_KEY_COLUMNS}`,
      [db.organizationId, key.name, key.prefix, key.keyHash, key.permissions, key.createdBy, key.expiresAt, key.now],
    );
    return rows[0];
  }

  list(db: TenantSql): Promise<ApiKeyRow[]> {
    return db.query<ApiKeyRow>(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE organization_id = $1 ORDER BY created_at DESC, id`, [db.organizationId]);
  }

  /** Revokes a key of this organization; false when there is no such (unrevoked) key. */
  async revoke(db: TenantSql, id: string, now: Date): Promise<boolean> {
    const rows = await db.query<{ id: string }>(
      `UPDATE api_keys SET revoked_at = $3, updated_at = $3 WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id`,
      [db.organizationId, id, now],
    );
    return rows.length > 0;
  }
}
