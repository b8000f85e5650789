import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { Role } from 'src/organizations/organizations.enums';

export interface MemberRow {
  userId: string;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
}

const MEMBER_COLUMNS = `u.id AS "userId", u.email, u.name, m.role, m.created_at AS "createdAt"`;

/**
 * Members of an organization, on its tenant handle. `memberships` and `users` carry no row-level security (the
 * guard reads them before an organization context exists), so every query here names the handle's organization.
 */
@Injectable()
export class MembersRepository {
  list(db: TenantSql): Promise<MemberRow[]> {
    return db.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 ORDER BY u.email`,
      [db.organizationId],
    );
  }

  async find(db: TenantSql, userId: string): Promise<MemberRow | null> {
    const rows = await db.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.user_id = $2`,
      [db.organizationId, userId],
    );
    return rows[0] ?? null;
  }

  /** The user with this (lower-cased) email, created when missing. */
  async ensureUser(db: TenantSql, email: string, name: string): Promise<string> {
    await db.query(`INSERT INTO users (email, name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING`, [email, name]);
    const rows = await db.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [email]);
    return rows[0].id;
  }

  /** false when the user is already a member. */
  async insert(db: TenantSql, userId: string, role: Role): Promise<boolean> {
    const rows = await db.query<{ id: string }>(
      `INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (organization_id, user_id) DO NOTHING RETURNING id`,
      [db.organizationId, userId, role],
    );
    return rows.length > 0;
  }

  async setRole(db: TenantSql, userId: string, role: Role): Promise<void> {
    await db.query(`UPDATE memberships SET role = $3, updated_at = now() WHERE organization_id = $1 AND user_id = $2`, [db.organizationId, userId, role]);
  }

  async remove(db: TenantSql, userId: string): Promise<void> {
    await db.query(`DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, [db.organizationId, userId]);
  }

  /** Owners of the organization, locked until the transaction ends (two concurrent demotions cannot both pass). */
  async lockOwners(db: TenantSql): Promise<string[]> {
    const rows = await db.query<{ user_id: string }>(
      `SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE`,
      [db.organizationId],
    );
    return rows.map((r) => r.user_id);
  }
}
