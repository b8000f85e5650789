import { Pool } from 'pg';
import { AuthRepository } from 'src/auth/auth.repository';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { Role } from 'src/organizations/organizations.enums';
import { createMember, createOrganization } from 'test/auth/auth-fixtures';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/** The access check's membership look-up, prepared once per pooled connection (parse and plan spared after it). */
describe('the membership look-up as a prepared statement', () => {
  let db: TestDatabase;
  let pool: Pool;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('answers each role (and null) as before, prepared once on the connection that serves them all', async () => {
    const repo = new AuthRepository(new CrossTenantDb(pool));
    const [a, b] = [await createOrganization(db), await createOrganization(db)];
    const { userId } = await createMember(db, a.id, Role.Clinician);
    expect(await repo.findMembershipRole(userId, a.id)).toBe(Role.Clinician);
    expect(await repo.findMembershipRole(userId, b.id)).toBeNull();
    await db.query(`UPDATE memberships SET role = 'owner' WHERE user_id = $1`, [userId]);
    expect(await repo.findMembershipRole(userId, a.id)).toBe(Role.Owner);
    const client = await pool.connect();
    try {
      const prepared = await client.query<{ name: string; statement: string }>(`SELECT name, statement FROM pg_prepared_statements`);
      expect(prepared.rows).toEqual([{ name: 'auth-membership-role', statement: 'SELECT role FROM memberships WHERE user_id = $1 AND organization_id = $2' }]);
    } finally {
      client.release();
    }
  });
});
