import { Pool } from 'pg';
import { connectionConfig } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { tenantBegin } from 'src/database/tenant/tenant-sql';
import { createOrganization } from 'test/auth/auth-fixtures';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * TenantDb.transaction's `repeatableRead` and `importSnapshot`: two transactions on two connections read the same data
 * (a large organization's opportunities build, split in two halves), under the tenant setting and row-level security.
 */
describe('TenantDb.transaction on an exported snapshot', () => {
  let db: TestDatabase;
  let pool: Pool;
  let tenants: TenantDb;
  let a: string;
  let b: string;

  const addPatients = (org: string, from: number, n: number): Promise<unknown> =>
    db.query(
      `INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'test', 'p' || g, 'Patient ' || g FROM generate_series($2::int, $3::int) g`,
      [org, from, from + n - 1],
    );
  /** No organization filter: row-level security alone limits the count. */
  const count = async (sql: { query<R>(text: string): Promise<R[]> }): Promise<number> =>
    (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients`))[0].n;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The runtime role (row-level security applies); two connections, one per transaction.
    pool = new Pool({ ...connectionConfig(db.url, { applicationName: 'tenant-snapshot-test' }), max: 2 });
    tenants = new TenantDb(pool);
    a = (await createOrganization(db)).id;
    b = (await createOrganization(db)).id;
    await addPatients(a, 1, 3);
    await addPatients(b, 1, 5);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it("reads on the exporter's snapshot: rows committed after it are not seen, those of another organization neither", async () => {
    const seen = await tenants.transaction(
      a,
      async (first) => {
        const [{ id }] = await first.query<{ id: string }>(`SELECT pg_export_snapshot() AS id`);
        const before = await count(first);
        await addPatients(a, 100, 4); // committed after the snapshot
        const imported = await tenants.transaction(a, (second) => count(second), { importSnapshot: id });
        const fresh = await tenants.transaction(a, (second) => count(second));
        return { before, imported, fresh, again: await count(first) };
      },
      { repeatableRead: true },
    );
    expect(seen).toEqual({ before: 3, imported: 3, fresh: 7, again: 3 });
    // Without repeatableRead, a later statement of the same transaction sees the new rows (READ COMMITTED).
    const committed = await tenants.transaction(a, async (first) => {
      const before = await count(first);
      await addPatients(a, 200, 2);
      return [before, await count(first)];
    });
    expect(committed).toEqual([7, 9]);
    // The snapshot is shared, the organization is not: b's transaction on a's snapshot sees b's rows only.
    const other = await tenants.transaction(
      a,
      async (first) => {
        const [{ id }] = await first.query<{ id: string }>(`SELECT pg_export_snapshot() AS id`);
        return tenants.transaction(b, (second) => count(second), { importSnapshot: id });
      },
      { repeatableRead: true },
    );
    expect(other).toBe(5);
  });

  it('refuses a malformed snapshot id before sending anything, and an unknown one with the server error', async () => {
    expect(() => tenantBegin(a, { importSnapshot: "1'; DROP TABLE patients; --" })).toThrow('Not a snapshot id');
    expect(tenantBegin(a, { importSnapshot: '00000003-0000001B-1' })).toBe(
      `BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '00000003-0000001B-1'; SELECT set_config('app.organization_id', '${a}', true)`,
    );
    await expect(tenants.transaction(a, (sql) => count(sql), { importSnapshot: '00000003-0000001B-1' })).rejects.toThrow(/snapshot/i);
    // The pool's connections are still usable.
    await expect(tenants.transaction(a, (sql) => count(sql))).resolves.toBe(9);
  });
});
