import { Pool } from 'pg';
import { connectionConfig } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { createOrganization } from 'test/auth/auth-fixtures';
import { nodesOf, planOf, recording, type SentStatement } from 'test/utils/statement-plans';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * The model fit's sample of patients (FeaturesRepository.samplePatientIds): an organization no larger than the sample
 * is read whole through its index, in the order a sample of 100 % gives (the same fit), without reading the other
 * organizations' pages; a larger one is sampled, reproducibly.
 */
describe('the model fit sample (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let tenants: TenantDb;
  let small: string;
  let large: string;
  const repository = new FeaturesRepository();

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ ...connectionConfig(db.url, { applicationName: 'fit-sample-test' }), max: 2 });
    tenants = new TenantDb(pool);
    small = (await createOrganization(db)).id;
    large = (await createOrganization(db)).id;
    const add = (org: string, from: number, n: number): Promise<unknown> =>
      db.query(
        `INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'test', 'p' || g, 'Patient ' || g FROM generate_series($2::int, $3::int) g`,
        [org, from, from + n - 1],
      );
    // Interleaved, so that the small clinic's rows are spread over the large one's pages; one of its patients erased.
    for (let i = 0; i < 4; i++) {
      await add(large, i * 2000, 2000);
      await add(small, i * 30, 30);
    }
    await db.query(`UPDATE patients SET deleted_at = now() WHERE organization_id = $1 AND external_id = 'p5'`, [small]);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('takes every live patient of an organization no larger than the sample, in the order a full sample gives', async () => {
    await tenants.transaction(small, async (sql) => {
      const seen: SentStatement[] = [];
      const ids = await repository.samplePatientIds(recording(sql, seen), 200, 119, 42);
      expect(nodesOf(await planOf(sql, seen[0]))).not.toContain('Sample Scan');
      const full = await sql.query<{ id: string }>(
        `SELECT id FROM patients TABLESAMPLE BERNOULLI (100) REPEATABLE (42) WHERE organization_id = $1 AND deleted_at IS NULL`,
        [small],
      );
      expect(ids).toHaveLength(119);
      expect(ids).toEqual(full.map((r) => r.id));
      // Never a patient of the other organization, nor the erased one.
      const [{ n }] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM patients WHERE id = ANY($1::uuid[]) AND organization_id = $2 AND deleted_at IS NULL`,
        [ids, small],
      );
      expect(n).toBe(119);
      // Capped at the size asked for.
      expect(await repository.samplePatientIds(sql, 50, 50, 42)).toEqual(full.slice(0, 50).map((r) => r.id));
    });
  });

  it('samples a larger organization: about the size asked for, the same ids for the same seed', async () => {
    await tenants.transaction(large, async (sql) => {
      const seen: SentStatement[] = [];
      const first = await repository.samplePatientIds(recording(sql, seen), 1000, 8000, 7);
      expect(nodesOf(await planOf(sql, seen[0]))).toContain('Sample Scan');
      expect(first.length).toBeGreaterThan(800);
      expect(first.length).toBeLessThanOrEqual(1000);
      expect(await repository.samplePatientIds(sql, 1000, 8000, 7)).toEqual(first);
      expect(await repository.samplePatientIds(sql, 1000, 8000, 8)).not.toEqual(first);
    });
  });
});
