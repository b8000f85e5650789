import { Pool } from 'pg';
import { connectionConfig } from 'src/database/database';
import { keyLookupName } from 'src/database/tenant/key-lookup';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { FhirImportRepository } from 'src/fhir-import/fhir-import.repository';
import { IngestionRepository } from 'src/ingestion/ingestion.repository';
import { createOrganization } from 'test/auth/auth-fixtures';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * The ingestion's and the FHIR import's lookups by key (src/database/tenant/key-lookup.ts) for a clinic the table's
 * statistics do not know yet, beside one they do: the probes go through the unique key's index, not through another
 * index that starts with organization_id, filtering the clinic's rows once per key.
 */
describe('key lookups of a clinic the statistics do not know yet', () => {
  let db: TestDatabase;
  let pool: Pool;
  let tenants: TenantDb;
  let known: string;
  let fresh: string;
  const PATIENTS = 3000;

  /** The index names of a plan's scans (EXPLAIN's JSON), depth first. */
  const indexesOf = (plan: Record<string, unknown>): string[] => [
    ...(typeof plan['Index Name'] === 'string' ? [plan['Index Name']] : []),
    ...((plan.Plans as Record<string, unknown>[] | undefined) ?? []).flatMap(indexesOf),
  ];
  /** The plan the connection would run for the prepared key lookup `text`, as the lookup runs it (or as a custom plan). */
  const planOf = async (
    sql: TenantSql,
    text: string,
    params: unknown[],
    mode: 'force_generic_plan' | 'force_custom_plan',
  ): Promise<string[]> => {
    await sql.query(`SELECT set_config('plan_cache_mode', '${mode}', true)`);
    const literals = params.map((p) =>
      Array.isArray(p) ? `ARRAY[${p.map((v) => `'${String(v)}'`).join(',')}]::text[]` : `'${String(p)}'`,
    );
    const [row] = await sql.query<{ 'QUERY PLAN': [{ Plan: Record<string, unknown> }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE "${keyLookupName(text)}"(${literals.join(', ')})`,
    );
    await sql.query(`SELECT set_config('plan_cache_mode', 'auto', true)`);
    return indexesOf(row['QUERY PLAN'][0].Plan);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ ...connectionConfig(db.url, { applicationName: 'key-lookup-test' }), max: 2 });
    tenants = new TenantDb(pool);
    known = (await createOrganization(db)).id;
    fresh = (await createOrganization(db)).id;
    const add = (org: string, table: string): Promise<unknown> =>
      table === 'patients'
        ? db.query(
            `INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'fhir', 'p' || g, 'Patient ' || g FROM generate_series(1, $2::int) g`,
            [org, PATIENTS],
          )
        : db.query(
            `INSERT INTO fhir_resources (organization_id, source, resource_type, resource_id, patient_ref) SELECT $1, 'fhir', 'Condition', 'c' || g, 'p' || g FROM generate_series(1, $2::int) g`,
            [org, PATIENTS],
          );
    // The statistics know the first clinic only; the second's rows come after them, as a second clinic's import.
    for (const table of ['patients', 'fhir_resources']) await add(known, table);
    await db.query(`ANALYZE patients, fhir_resources`);
    for (const table of ['patients', 'fhir_resources']) await add(fresh, table);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it("finds the clinic's patients by key through the unique key's index, and leaves the plan setting as it was", async () => {
    const keys = [
      ...Array.from({ length: 50 }, (_, i) => ({ source: 'fhir', externalId: `p${i + 1}` })),
      { source: 'fhir', externalId: 'absent' },
    ];
    await tenants.transaction(fresh, async (sql) => {
      const ids = await new IngestionRepository().patientIds(sql, keys);
      expect(ids.size).toBe(50);
      const [{ mode }] = await sql.query<{ mode: string }>(`SELECT current_setting('plan_cache_mode') AS mode`);
      expect(mode).toBe('auto');
      // The statement the repository prepared on this connection (its name is its text's: keyLookupName).
      const [{ statement }] = await sql.query<{ statement: string }>(
        `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'key-lookup-%' AND statement LIKE '%FROM patients t%'`,
      );
      const params = [fresh, keys.map((k) => k.source), keys.map((k) => k.externalId)];
      expect(await planOf(sql, statement, params, 'force_generic_plan')).toEqual(['uq_patients_source_external_id']);
      // What the lookup ran on before: the clinic's value estimated at one row, the smaller index taken.
      expect(await planOf(sql, statement, params, 'force_custom_plan')).toEqual(['uq_patients_organization_id_id']);
    });
  });

  it("finds the clinic's FHIR resources by key through the primary key", async () => {
    const keys = Array.from({ length: 20 }, (_, i) => ({ resourceType: 'Condition', resourceId: `c${i + 1}` }));
    await tenants.transaction(fresh, async (sql) => {
      expect((await new FhirImportRepository().existing(sql, 'fhir', keys)).size).toBe(20);
      const [{ statement }] = await sql.query<{ statement: string }>(
        `SELECT statement FROM pg_prepared_statements WHERE name LIKE 'key-lookup-%' AND statement LIKE '%FROM fhir_resources f%'`,
      );
      const params = [fresh, 'fhir', keys.map((k) => k.resourceType), keys.map((k) => k.resourceId)];
      expect(await planOf(sql, statement, params, 'force_generic_plan')).toEqual(['pk_fhir_resources']);
    });
  });
});
