import { Pool } from 'pg';
import { AuthRepository } from 'src/auth/auth.repository';
import { IdentityService } from 'src/auth/identity.service';
import { SystemClock } from 'src/common/clock/clock';
import { loadSettings } from 'src/config/settings';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { Role } from 'src/organizations/organizations.enums';
import { createMember, createOrganization, createUser } from 'test/auth/auth-fixtures';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/** The access check's membership look-ups, prepared once per pooled connection (parse and plan spared after it). */
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

  it("reads a user's memberships together: one statement for all their organizations, until forgotten or past the cap", async () => {
    const repo = new AuthRepository(new CrossTenantDb(pool));
    const statements: string[] = [];
    const counting = {
      findMembershipRoles: (userId: string, limit: number) => (statements.push('all'), repo.findMembershipRoles(userId, limit)),
      findMembershipRole: (userId: string, organizationId: string) => (statements.push('one'), repo.findMembershipRole(userId, organizationId)),
    } as unknown as AuthRepository;
    const identity = new IdentityService(counting, new SystemClock(), loadSettings({ AUTH_CACHE_SECONDS: '60' }));
    const [a, b, c] = [await createOrganization(db), await createOrganization(db), await createOrganization(db)];
    const { userId } = await createUser(db);
    await db.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $3, 'clinician'), ($2, $3, 'owner')`, [a.id, b.id, userId]);

    expect(await identity.membershipRole(userId, a.id)).toBe(Role.Clinician);
    expect(await identity.membershipRole(userId, b.id.toUpperCase())).toBe(Role.Owner);
    expect(await identity.membershipRole(userId, c.id)).toBeNull();
    expect(statements).toEqual(['all']);

    // A change through the API forgets the user's memberships: the next check reads them all again.
    await db.query(`UPDATE memberships SET role = 'admin' WHERE user_id = $1 AND organization_id = $2`, [userId, a.id]);
    identity.forgetMembership(userId, a.id);
    expect(await identity.membershipRole(userId, a.id)).toBe(Role.Admin);
    expect(await identity.membershipRole(userId, b.id)).toBe(Role.Owner);
    expect(statements).toEqual(['all', 'all']);

    // More organizations than the cap: looked up one organization at a time (each cached).
    identity.maxCachedMemberships = 1;
    identity.forgetMembership(userId, a.id);
    expect(await identity.membershipRole(userId, a.id)).toBe(Role.Admin);
    expect(await identity.membershipRole(userId, b.id)).toBe(Role.Owner);
    expect(await identity.membershipRole(userId, a.id)).toBe(Role.Admin);
    expect(statements).toEqual(['all', 'all', 'all', 'one', 'one']);

    const client = await pool.connect();
    try {
      const prepared = await client.query<{ name: string }>(`SELECT name FROM pg_prepared_statements ORDER BY name`);
      expect(prepared.rows.map((r) => r.name)).toEqual(['auth-membership-role', 'auth-membership-roles']);
    } finally {
      client.release();
    }
  });
});
