import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
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
 * Members of an organization. `memberships` and `users` carry no row-level security (the guard reads them before
 * an organization context exists), so every query here names its organization.
 */
@Injectable()
export class MembersRepository {
  constructor(private readonly dataSource: DataSource) {}

  list(organizationId: string): Promise<MemberRow[]> {
    return this.dataSource.query(
      `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 ORDER BY u.email`,
      [organizationId],
    );
  }

  async find(organizationId: string, userId: string, manager: EntityManager = this.dataSource.manager): Promise<MemberRow | null> {
    const rows: MemberRow[] = await manager.query(
      `SELECT ${MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND m.user_id = $2`,
      [organizationId, userId],
    );
    return rows[0] ?? null;
  }

  /** The user with this (lower-cased) email, created when missing. */
  async ensureUser(manager: EntityManager, email: string, name: string): Promise<string> {
    await manager.query(`INSERT INTO users (email, name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING`, [email, name]);
    const rows: { id: string }[] = await manager.query(`SELECT id FROM users WHERE email = $1`, [email]);
    return rows[0].id;
  }

  /** false when the user is already a member. */
  async insert(manager: EntityManager, organizationId: string, userId: string, role: Role): Promise<boolean> {
    const rows: { id: string }[] = await manager.query(
      `INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (organization_id, user_id) DO NOTHING RETURNING id`,
      [organizationId, userId, role],
    );
    return rows.length > 0;
  }

  async setRole(manager: EntityManager, organizationId: string, userId: string, role: Role): Promise<void> {
    await manager.query(`UPDATE memberships SET role = $3, updated_at = now() WHERE organization_id = $1 AND user_id = $2`, [organizationId, userId, role]);
  }

  async remove(manager: EntityManager, organizationId: string, userId: string): Promise<void> {
    await manager.query(`DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2`, [organizationId, userId]);
  }

  /** Owners of the organization, locked until the transaction ends (two concurrent demotions cannot both pass). */
  async lockOwners(manager: EntityManager, organizationId: string): Promise<string[]> {
    const rows: { user_id: string }[] = await manager.query(
      `SELECT user_id FROM memberships WHERE organization_id = $1 AND role = 'owner' FOR UPDATE`,
      [organizationId],
    );
    return rows.map((r) => r.user_id);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
