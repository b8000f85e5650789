import { Pool } from 'pg';
import { connectionConfig } from 'src/database/database';
import { MAX_PREPARED_PER_CONNECTION, TenantDb } from 'src/database/tenant/tenant-db';
import { createOrganization } from 'test/auth/auth-fixtures';
import { recordSentStatements, unspiedQuery } from 'test/utils/sent-statements';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * TenantDb.statements with `prepared` (docs/scaling.md, "A clinic's first list request, cheaper"): a statement with
 * a `prepare` name is prepared once per connection, by a message of its own before its first run, and run as
 * `EXECUTE` after the tenant setting; row-level security holds for every organization, the generic plan's runs included.
 */
describe('TenantDb.statements with prepared statements', () => {
  let db: TestDatabase;
  let pool: Pool;
  let tenants: TenantDb;
  let a: string;
  let b: string;
  /** Every message the pool's connection is sent, in order. */
  const sent: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // One connection as the runtime role (row-level security applies), so that every unit below shares it.
    pool = new Pool({ ...connectionConfig(db.url, { applicationName: 'tenant-prepared-test' }), max: 1 });
    tenants = new TenantDb(pool);
    a = (await createOrganization(db)).id;
    b = (await createOrganization(db)).id;
    for (const [org, n] of [[a, 3], [b, 5]] as const) {
      await db.query(`INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'test', 'p' || g, 'Patient ' || g FROM generate_series(1, $2::int) g`, [
        org,
        n,
      ]);
    }
    recordSentStatements((text) => sent.push(text));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await pool.end();
    await db.drop();
  });

  const prepared = async (): Promise<{ name: string; statement: string; generic_plans: number; custom_plans: number }[]> => {
    const client = await pool.connect();
    try {
      const unspied = unspiedQuery as unknown as (this: unknown, text: string) => Promise<{ rows: { name: string; statement: string; generic_plans: number; custom_plans: number }[] }>;
      return (await unspied.call(client, `SELECT name, statement, generic_plans::int, custom_plans::int FROM pg_prepared_statements ORDER BY name`)).rows;
    } finally {
      client.release();
    }
  };
  /** What every tenant statement's message starts with: the tenant setting and no parallel workers, one SELECT. */
  const prefixOf = (org: string): string =>
    `SELECT set_config('app.organization_id', '${org}', true), set_config('max_parallel_workers_per_gather', '0', true); `;
  /** A statement without an organization filter: row-level security alone limits it. */
  const COUNT = `SELECT count(*)::int AS n, $1::text AS tag FROM patients`;
  const count = (org: string, tag: string, options: { prepared?: boolean; prepare?: string } = { prepared: true, prepare: 'test-count' }) =>
    tenants.statements(org, async (sql) => (await sql.query<{ n: number; tag: string }>(COUNT, [tag], options.prepare ? { prepare: options.prepare } : undefined))[0], {
      prepared: options.prepared,
    });

  it('prepares by a message of its own before the first run, then sends EXECUTE; each organization sees its own rows, generic plan included', async () => {
    sent.length = 0;
    expect(await count(a, "it's a")).toEqual({ n: 3, tag: "it's a" });
    expect(sent).toEqual([
      `PREPARE "s:test-count" AS ${COUNT}`,
      `${prefixOf(a)}EXECUTE "s:test-count"('it''s a')`,
    ]);
    sent.length = 0;
    expect(await count(b, 'b')).toEqual({ n: 5, tag: 'b' });
    expect(sent).toEqual([`${prefixOf(b)}EXECUTE "s:test-count"('b')`]);
    // Past the server's five custom plans: the generic plan, which still reads the tenant setting when it runs.
    for (let i = 0; i < 8; i++) expect((await count(i % 2 === 0 ? a : b, 'x')).n).toBe(i % 2 === 0 ? 3 : 5);
    const [statement] = await prepared();
    // The server keeps the text of the message that prepared it: no run's parameters.
    expect(statement).toMatchObject({ name: 's:test-count', statement: `PREPARE "s:test-count" AS ${COUNT}` });
    expect(statement.generic_plans).toBeGreaterThan(0);
  });

  it('sends a leading statement prepared in the same message, its rows apart', async () => {
    let lead: Record<string, unknown>[] = [];
    sent.length = 0;
    const rows = await tenants.statements(
      b,
      (sql) => sql.query<{ n: number }>(COUNT, ['main'], { prepare: 'test-count' }),
      { prepared: true, leading: { text: `SELECT $1::int + count(*)::int AS m FROM patients`, params: [100], prepare: 'test-lead', rows: (r) => void (lead = r) } },
    );
    expect(rows).toEqual([{ n: 5, tag: 'main' }]);
    expect(lead).toEqual([{ m: 105 }]);
    expect(sent).toEqual([
      `PREPARE "s:test-lead" AS SELECT $1::int + count(*)::int AS m FROM patients`,
      `${prefixOf(b)}EXECUTE "s:test-lead"('100'); EXECUTE "s:test-count"('main')`,
    ]);
    // Work that sends nothing: the leading statement alone, prepared already.
    sent.length = 0;
    await tenants.statements(a, async () => null, {
      prepared: true,
      leading: { text: `SELECT $1::int + count(*)::int AS m FROM patients`, params: [1], prepare: 'test-lead', rows: (r) => void (lead = r) },
    });
    expect(lead).toEqual([{ m: 4 }]);
    expect(sent).toEqual([`${prefixOf(a)}EXECUTE "s:test-lead"('1')`]);
  });

  it('ignores the names without `prepared`, as before', async () => {
    sent.length = 0;
    expect(await count(a, 'plain', { prepare: 'test-plain' })).toEqual({ n: 3, tag: 'plain' });
    expect(sent).toEqual([`${prefixOf(a)}SELECT count(*)::int AS n, 'plain'::text AS tag FROM patients`]);
    expect((await prepared()).map((p) => p.name)).not.toContain('s:test-plain');
  });

  it('a PREPARE that fails prepares nothing (the next run tries again); a failed run keeps its statement', async () => {
    const divide = (org: string, by: number, sql = `SELECT 10 / $1::int AS q`) =>
      tenants.statements(org, async (db) => (await db.query<{ q: number }>(sql, [by], { prepare: 'test-divide' }))[0], { prepared: true });
    await expect(divide(a, 2, `SELECT 10 / $1::int AS q FROM no_such_table`)).rejects.toThrow(/no_such_table/);
    expect((await prepared()).map((p) => p.name)).not.toContain('s:test-divide');
    sent.length = 0;
    await expect(divide(a, 0)).rejects.toThrow(/division by zero/);
    expect(sent[0]).toMatch(/^PREPARE "s:test-divide" AS /);
    expect((await prepared()).map((p) => p.name)).toContain('s:test-divide');
    sent.length = 0;
    expect(await divide(b, 5)).toEqual({ q: 2 });
    expect(sent).toEqual([`${prefixOf(b)}EXECUTE "s:test-divide"('5')`]);
  });

  it(`keeps at most ${MAX_PREPARED_PER_CONNECTION} statements per connection and sends the others with their literals`, async () => {
    const already = (await prepared()).length;
    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 3; i++) {
      sent.length = 0;
      const row = await tenants.statements(a, async (sql) => (await sql.query<{ i: number }>(`SELECT $1::int AS i, ${i} AS k`, [i], { prepare: `test-many-${i}` }))[0], {
        prepared: true,
      });
      expect(row.i).toBe(i);
      expect(sent[0].startsWith('PREPARE')).toBe(already + i < MAX_PREPARED_PER_CONNECTION);
      expect(sent).toHaveLength(already + i < MAX_PREPARED_PER_CONNECTION ? 2 : 1);
    }
    expect(await prepared()).toHaveLength(MAX_PREPARED_PER_CONNECTION);
  });
  it('runs each statement without parallel workers, and leaves the connection as it was', async () => {
    const setting = await tenants.statements(
      a,
      async (sql) => (await sql.query<{ v: string }>(`SELECT current_setting('max_parallel_workers_per_gather') AS v`))[0].v,
    );
    expect(setting).toBe('0');
    // The same connection (the pool holds one) outside a tenant statement: the server's setting again.
    const client = await pool.connect();
    try {
      const unspied = unspiedQuery as unknown as (this: unknown, text: string) => Promise<{ rows: { v: string }[] }>;
      const [{ v }] = (await unspied.call(client, `SELECT current_setting('max_parallel_workers_per_gather') AS v`)).rows;
      expect(v).not.toBe('0');
    } finally {
      client.release();
    }
  });
});
