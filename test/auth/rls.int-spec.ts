import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { createOrganization } from 'test/auth/auth-fixtures';

/** Tables the auth layer reads before an organization context exists: deliberately without a policy. */
const AUTH_TABLES = ['organizations', 'users', 'memberships', 'api_keys'];

describe('tenant isolation in PostgreSQL (row-level security)', () => {
  let t: TestApp;
  let tenantDb: TenantDb;
  /** The app's pool outside any organization context (the escape hatch): what row-level security shows it. */
  let dataSource: CrossTenantDb;
  let a: { id: string };
  let b: { id: string };

  beforeAll(async () => {
    t = await createTestApp();
    tenantDb = t.app.get(TenantDb);
    dataSource = t.app.get(CrossTenantDb);
    a = await createOrganization(t.db);
    b = await createOrganization(t.db);
    for (const [org, n] of [[a.id, 3], [b.id, 5]] as const) {
      await t.db.query(
        `WITH p AS (
           INSERT INTO patients (organization_id, source, external_id, name)
           SELECT $1, 'test', 'p' || g, 'Patient ' || g FROM generate_series(1, $2::int) g RETURNING id, name)
         INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level)
         SELECT $1, id, lower(name), 'active', 'low' FROM p`,
        [org, n],
      );
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('protects every table with organization_id except the four the auth layer reads first', async () => {
    const rows = await t.db.query<{ table: string; rls: boolean; policies: number }>(
      `SELECT c.relname AS table, c.relrowsecurity AS rls,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid
                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%app.organization_id%') AS policies
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped)
        ORDER BY 1`,
    );
    const tenantTables = rows.filter((r) => !AUTH_TABLES.includes(r.table));
    expect(tenantTables.length).toBeGreaterThanOrEqual(12);
    expect(tenantTables.filter((r) => !r.rls || r.policies === 0).map((r) => r.table)).toEqual([]);
    const authTables = await t.db.query<{ table: string; rls: boolean }>(
      `SELECT relname AS table, relrowsecurity AS rls FROM pg_class WHERE relname = ANY($1) AND relkind = 'r' ORDER BY 1`,
      [AUTH_TABLES],
    );
    expect(authTables).toEqual([...AUTH_TABLES].sort().map((table) => ({ table, rls: false })));
  });

  it('reads the organization once per statement in every tenant policy, not once per row', async () => {
    // The per-row form (current_setting, nullif and a uuid cast for every row a policy looks at) cost the
    // organization-wide recompute seconds per million rows (migration 1795567660000).
    const policies = await t.db.query<{ table: string; qual: string; check: string | null }>(
      `SELECT tablename AS table, qual, with_check AS check FROM pg_policies
        WHERE schemaname = 'public' AND (qual LIKE '%app.organization_id%' OR with_check LIKE '%app.organization_id%') ORDER BY 1`,
    );
    expect(policies.length).toBeGreaterThanOrEqual(20);
    const perRow = policies.filter((p) => !/^\(organization_id = \( SELECT /.test(p.qual) || (p.check !== null && !/^\(organization_id = \( SELECT /.test(p.check)));
    expect(perRow.map((p) => p.table)).toEqual([]);
    // The plan computes it once (an InitPlan), and isolation is unchanged.
    const plan = await tenantDb.transaction(a.id, (m) => m.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) SELECT count(*) FROM patients`));
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/InitPlan/);
    expect(await tenantDb.transaction(a.id, (m) => m.query(`SELECT count(*)::int AS n FROM patients`))).toEqual([{ n: 3 }]);
  });

  it('runs the app as a role that RLS applies to: not superuser, no BYPASSRLS, owns no table', async () => {
    const [who] = await dataSource.query(`SELECT current_user AS role`);
    expect(who.role).toBe('patient_journey_app');
    const [role] = await t.db.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
      `SELECT rolsuper, rolbypassrls, (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
         FROM pg_roles r WHERE rolname = 'patient_journey_app'`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('shows a query without an organization filter only its own organization rows', async () => {
    const forA = await tenantDb.transaction(a.id, (m) => m.query<{ organization_id: string }>(`SELECT organization_id FROM patients`));
    const forB = await tenantDb.transaction(b.id, (m) => m.query(`SELECT count(*)::int AS n FROM patient_metrics`));
    expect(forA).toHaveLength(3);
    expect(new Set(forA.map((r: { organization_id: string }) => r.organization_id))).toEqual(new Set([a.id]));
    expect(forB).toEqual([{ n: 5 }]);
    // Even a join through both tables and an explicit filter on the other organization find nothing of it.
    const crossed = await tenantDb.transaction(a.id, (m) =>
      m.query(`SELECT count(*)::int AS n FROM patients p JOIN patient_metrics pm ON pm.patient_id = p.id WHERE p.organization_id = $1`, [b.id]),
    );
    expect(crossed).toEqual([{ n: 0 }]);
  });

  it('reads through TenantDb.read under the same rules: own rows only, as the runtime role, setting gone after', async () => {
    const forA = await tenantDb.read(a.id, (sql) => sql.query<{ organization_id: string; role: string; org: string }>(
      `SELECT organization_id, current_user AS role, current_setting('app.organization_id') AS org FROM patients`,
    ));
    expect(forA).toHaveLength(3);
    expect(new Set(forA.map((r) => `${r.organization_id} ${r.role} ${r.org}`))).toEqual(new Set([`${a.id} patient_journey_app ${a.id}`]));
    const crossed = await tenantDb.read(b.id.toUpperCase(), (sql) => sql.query(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1`, [a.id]));
    expect(crossed).toEqual([{ n: 0 }]);
    // The setting was transaction-local: the pooled connection, used next without a context, sees nothing.
    expect(await dataSource.query(`SELECT count(*)::int AS n, coalesce(current_setting('app.organization_id', true), '') AS org FROM patients`)).toEqual([{ n: 0, org: '' }]);
  });

  it('TenantDb.read refuses an organization id that is not a UUID, rolls back on error and keeps the pool usable', async () => {
    await expect(tenantDb.read(`${a.id}', true); SELECT ('x`, (sql) => sql.query('SELECT 1'))).rejects.toThrow(/UUID/);
    await expect(tenantDb.read(a.id, (sql) => sql.query(`SELECT no_such_column FROM patients`))).rejects.toThrow(/no_such_column/);
    // A failed read inside the transaction leaves nothing open: ten reads in a row (more than the pool) still work.
    for (let i = 0; i < 12; i++) expect(await tenantDb.read(b.id, (sql) => sql.query(`SELECT count(*)::int AS n FROM patients`))).toEqual([{ n: 5 }]);
  });

  it('reads through TenantDb.statements under the same rules: one statement per round trip, setting gone after', async () => {
    const seen = await tenantDb.statements(a.id, async (sql) => [
      await sql.query<{ n: number; role: string; org: string }>(
        `SELECT count(*)::int AS n, current_user AS role, current_setting('app.organization_id') AS org FROM patients`,
      ),
      // Another organization's id as a parameter: row-level security still answers for a only.
      await sql.query(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1`, [b.id]),
      // Each statement is its own transaction: the second one's transaction id differs.
      await sql.query<{ x: string }>(`SELECT txid_current()::text AS x`),
      await sql.query<{ x: string }>(`SELECT txid_current()::text AS x`),
    ]);
    expect(seen[0]).toEqual([{ n: 3, role: 'patient_journey_app', org: a.id }]);
    expect(seen[1]).toEqual([{ n: 0 }]);
    expect((seen[2][0] as { x: string }).x).not.toBe((seen[3][0] as { x: string }).x);
    expect(await dataSource.query(`SELECT count(*)::int AS n, coalesce(current_setting('app.organization_id', true), '') AS org FROM patients`)).toEqual([{ n: 0, org: '' }]);
  });

  it('TenantDb.statements writes parameters in as literals that PostgreSQL reads back unchanged', async () => {
    const tricky = `O'Brien \\ "quoted" $1 ; DROP TABLE patients; --`;
    const at = new Date('2026-11-25T08:30:00.123Z');
    const [row] = await tenantDb.statements(a.id, (sql) =>
      sql.query<{ s: string; n: number; d: string; ids: string[]; nothing: null; flag: boolean; big: string }>(
        `SELECT $1::text AS s, $2::int + 1 AS n, to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS d,
                $4::uuid[] AS ids, $5::text AS nothing, $6::boolean AS flag, ($7::bigint * 2)::text AS big
           LIMIT $8 OFFSET $9`,
        [tricky, 41, at, [a.id, b.id], null, true, 2 ** 40, 1, 0],
      ),
    );
    expect(row).toEqual({ s: tricky, n: 42, d: '2026-11-25 08:30:00.123', ids: [a.id, b.id], nothing: null, flag: true, big: String(2 ** 41) });
    expect((await t.db.query(`SELECT count(*)::int AS n FROM patients`))[0]).toEqual({ n: 8 });
  });

  it('TenantDb.statements refuses a non-UUID organization, and a failed statement leaves the pool usable', async () => {
    await expect(tenantDb.statements(`${a.id}', true); SELECT ('x`, (sql) => sql.query('SELECT 1'))).rejects.toThrow(/UUID/);
    await expect(tenantDb.statements(a.id, (sql) => sql.query(`SELECT no_such_column FROM patients`))).rejects.toThrow(/no_such_column/);
    await expect(tenantDb.statements(a.id, (sql) => sql.query(`SELECT $2::int`, [1]))).rejects.toThrow(/no value for \$2/);
    for (let i = 0; i < 12; i++) expect(await tenantDb.statements(b.id, (sql) => sql.query(`SELECT count(*)::int AS n FROM patients`))).toEqual([{ n: 5 }]);
  });

  it('sees nothing without an organization context (fail closed)', async () => {
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM patients`)).toEqual([{ n: 0 }]);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM patients`))[0]).toEqual({ n: 8 });
  });

  it('refuses to write a row of another organization, and cannot update or delete its rows', async () => {
    await expect(
      tenantDb.transaction(a.id, (m) => m.query(`INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', 'x', 'X')`, [b.id])),
    ).rejects.toThrow(/row-level security/);
    const updated = await tenantDb.transaction(a.id, (m) => m.query(`UPDATE patients SET name = 'changed' WHERE organization_id = $1 RETURNING id`, [b.id]));
    expect(updated).toEqual([]); // no row of b updated (rows of RETURNING: none)
    await tenantDb.transaction(a.id, (m) => m.query(`DELETE FROM patient_metrics`));
    const left = await t.db.query<{ organization_id: string; n: number }>(
      `SELECT organization_id, count(*)::int AS n FROM patient_metrics GROUP BY 1 ORDER BY 2`,
    );
    expect(left).toEqual([{ organization_id: b.id, n: 5 }]);
  });
});
