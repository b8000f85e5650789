import type { Database } from 'src/database/database';
import { OwnerConnection } from 'src/database/owner-connection';
import { ImportStatistics } from 'src/fhir-import/import-statistics';
import { createTestDatabase, type TestDatabase } from 'test/utils/test-database';

/**
 * The statistics a large FHIR import keeps up (src/fhir-import/import-statistics.ts): without them the planner took
 * the medical-list lookup's patient index with a filter (1.8 s per chunk at 600,000 rows; 0.2-1.9 s per chunk over a
 * first clinic's first 19,000 Conditions) instead of the primary key.
 */
describe('ImportStatistics (real PostgreSQL)', () => {
  let db: TestDatabase;
  let org: string;
  const database = {
    ownerConnection: (name: string) => OwnerConnection.open({ connectionString: db.url, application_name: name }),
  } as unknown as Database;

  beforeAll(async () => {
    db = await createTestDatabase();
    [{ id: org }] = await db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('stats', 'Stats') RETURNING id`);
  });
  afterAll(() => db.drop());

  const addListItems = async (from: number, n: number): Promise<void> => {
    await db.query(
      `INSERT INTO fhir_resources (organization_id, source, resource_type, resource_id, patient_ref)
       SELECT $1, 'fhir', 'Condition', 'c' || g, 'p' || (g % 500) FROM generate_series($2::int, $3::int) g`,
      [org, from, from + n - 1],
    );
    await db.query('SELECT pg_stat_force_next_flush()');
  };
  const analyzed = async (): Promise<{ last: Date | null; tuples: number; plan: string }> => {
    const [s] = await db.query<{ last: Date | null; tuples: number }>(
      `SELECT s.last_analyze AS last, c.reltuples::int AS tuples FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'fhir_resources'`,
    );
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM fhir_resources WHERE organization_id = $1 AND source = 'fhir' AND resource_type = 'Condition' AND resource_id = 'c7'`,
      [org],
    );
    return { ...s, plan: plan.map((r) => r['QUERY PLAN']).join('\n') };
  };

  it('analyzes a table once it has doubled since its last analyze, checked every 2,000 resources', async () => {
    const stats = new ImportStatistics(database);
    try {
      await addListItems(0, 900); // never analyzed, but under 1,000 rows: not yet
      await stats.written(2_000);
      expect((await analyzed()).last).toBeNull();

      await addListItems(900, 2_100);
      await stats.written(3_999); // before the next check: nothing
      expect((await analyzed()).last).toBeNull();

      await stats.written(4_000);
      const first = await analyzed();
      expect(first.last).not.toBeNull();
      expect(first.tuples).toBe(3_000);
      expect(first.plan).toContain('pk_fhir_resources');

      await addListItems(3_000, 500); // grown by a sixth: not analyzed again
      await stats.written(6_000);
      expect((await analyzed()).tuples).toBe(3_000);

      await addListItems(3_500, 1_500); // 2,000 rows since, on 5,000: not yet half of the table
      await stats.written(8_000);
      expect((await analyzed()).tuples).toBe(3_000);

      await addListItems(5_000, 1_000); // 3,000 rows since, on 6,000: doubled, analyzed again
      await stats.written(9_000); // within 2,000 of the last check: not checked yet
      expect((await analyzed()).tuples).toBe(3_000);
      await stats.written(10_000);
      expect((await analyzed()).tuples).toBe(6_000);
    } finally {
      await stats.close();
    }
  });
  it("analyzes at the end the tables whose statistics do not know the organization's rows yet", async () => {
    const [{ id: joining }] = await db.query<{ id: string }>(
      `INSERT INTO organizations (slug, name) VALUES ('joining', 'Joining') RETURNING id`,
    );
    const [{ id: tiny }] = await db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('tiny', 'Tiny') RETURNING id`);
    const add = (organization: string, prefix: string, n: number): Promise<unknown> =>
      db.query(
        `INSERT INTO fhir_resources (organization_id, source, resource_type, resource_id, patient_ref)
         SELECT $1, 'fhir', 'Condition', $2 || g, 'p' || (g % 500) FROM generate_series(1, $3::int) g`,
        [organization, prefix, n],
      );
    await db.query('ANALYZE fhir_resources'); // knows the first organization's 6,000 rows (the test above) only
    const before = await analyzed();
    await add(joining, 'j', 3_000); // the statistics take it for one row
    await add(tiny, 't', 200);
    const stats = new ImportStatistics(database);
    try {
      expect(await stats.settle(tiny)).toEqual([]); // under 1,000 rows: left as it is
      expect((await analyzed()).last).toEqual(before.last);
      expect(await stats.settle(joining)).toEqual(['fhir_resources']);
      const after = await analyzed();
      expect(after.last!.getTime()).toBeGreaterThan(before.last!.getTime());
      expect(after.tuples).toBe(9_200);
      expect(await stats.settle(joining)).toEqual([]); // known now
      expect(await stats.settle(org)).toEqual([]);
    } finally {
      await stats.close();
    }
  });
});
