import { Logger } from '@nestjs/common';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { ORGANIZATION_TABLES, organizationUnseenTables, RUN_TABLES } from 'src/scoring/recompute/maintenance';
import { recomputeOrganizationWithUrl, simulatedClinic, tenantConnection } from 'test/scoring/scoring-fixtures';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, type TestDatabase } from 'test/utils/test-database';

/**
 * A clinic the planner's statistics do not know (migration 1795568600000, `organization_unseen_tables`; docs/scaling.md,
 * "A clinic the statistics do not know"): one that joined a database holding another after its last ANALYZE. Its
 * organization-wide run analyzes its tables before reading them, and what it wrote at its end, for its follow-ups.
 */
describe('tables whose statistics do not know an organization (real PostgreSQL)', () => {
  let db: TestDatabase;
  let known: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    known = await simulatedClinic(db, 1_200, 3);
    await db.query('ANALYZE');
  });
  afterAll(() => db.drop());

  const unseenOf = async (organizationId: string, tables: readonly string[] = RUN_TABLES): Promise<string[]> => {
    const connection: BatchTenantConnection = await tenantConnection(db.url, organizationId);
    try {
      return await organizationUnseenTables(connection, tables);
    } finally {
      await connection.end();
    }
  };
  const lastAnalyzed = async (table: string): Promise<number> => {
    const [row] = await db.query<{ at: Date | null }>(`SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = $1`, [table]);
    return row.at?.getTime() ?? 0;
  };
  const estimate = async (table: string, organizationId: string): Promise<number> => {
    const [row] = await db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE organization_id = $1`,
      [organizationId],
    );
    return row['QUERY PLAN'][0].Plan['Plan Rows'];
  };

  it("names, for the runtime role's own organization, the tables with 1,000 of its rows the planner estimates at almost none", async () => {
    const joining = await simulatedClinic(db, 1_200, 5);
    const small = await simulatedClinic(db, 100, 7);
    expect(await estimate('patients', joining)).toBe(1);

    // Its kept features' rows are the tombstones its records' triggers wrote.
    expect(await unseenOf(joining)).toEqual(['patients', 'appointments', 'patient_features']);
    expect(await unseenOf(small)).toEqual([]); // as unknown, under 1,000 rows
    expect(await unseenOf(known)).toEqual([]);
    // Only tables of the public schema with an organization column; other names are passed over.
    expect(await unseenOf(joining, ['no_such_table', 'users', 'pg_class', 'memberships', 'appointments'])).toEqual(['appointments']);
    // Nothing once the session has no organization.
    const connection = await tenantConnection(db.url, joining);
    try {
      expect(await organizationUnseenTables(connection, RUN_TABLES)).toHaveLength(3);
      await connection.query(`SELECT set_config('app.organization_id', '', false)`);
      expect(await organizationUnseenTables(connection, RUN_TABLES)).toEqual([]);
    } finally {
      await connection.end();
    }
  });

  it('names the partition where a partitioned table plans the organization', async () => {
    const org = await simulatedClinic(db, 1_100, 9);
    await db.query('ANALYZE');
    // Known in its records (and its kept features' tombstones), so the run analyzes nothing; what it writes (its
    // scores, in the shared metrics partition, and their history) is unknown after it.
    await recomputeOrganizationWithUrl(db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
    expect(await unseenOf(org)).toEqual(['risk_score_history', 'patient_metrics_default']);
  });

  it('an organization-wide run analyzes an unknown organization before reading it, and what it wrote at its end', async () => {
    const org = await simulatedClinic(db, 1_300, 11);
    // A table only the read path reads (the journey's), analyzed with the run's own.
    await db.query(
      `INSERT INTO journey_events (organization_id, source, external_id, patient_id, occurred_at, stage)
       SELECT organization_id, 'ehr', 'j' || id, id, registered_at, 'intake' FROM patients WHERE organization_id = $1`,
      [org],
    );
    const before = { patients: await lastAnalyzed('patients'), metrics: await lastAnalyzed('patient_metrics_default') };
    expect(await estimate('appointments', org)).toBe(1);
    expect(await unseenOf(org, ORGANIZATION_TABLES)).toContain('journey_events');

    const result = await recomputeOrganizationWithUrl(db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
    expect(result.patients).toBe(1_300);
    expect(await lastAnalyzed('patients')).toBeGreaterThan(before.patients);
    expect(await lastAnalyzed('patient_metrics_default')).toBeGreaterThan(before.metrics);
    expect(await estimate('patients', org)).toBeGreaterThan(1_000);
    expect(await estimate('patient_metrics', org)).toBeGreaterThan(1_000);
    expect(await estimate('journey_events', org)).toBeGreaterThan(1_000);
    expect(await unseenOf(org, ORGANIZATION_TABLES)).toEqual([]);

    // Known now: the next night analyzes nothing.
    const analyzed = await lastAnalyzed('patients');
    await recomputeOrganizationWithUrl(db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
    expect(await lastAnalyzed('patients')).toBe(analyzed);
  });

  // Last: it takes the function away.
  it('a run whose statistics cannot be checked still scores its patients, and says so in the log', async () => {
    const org = await simulatedClinic(db, 1_050, 13);
    await db.query('DROP FUNCTION organization_unseen_tables(text[])');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const result = await recomputeOrganizationWithUrl(db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
      expect(result.patients).toBe(1_050);
      const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_metrics WHERE organization_id = $1`, [org]);
      expect(n).toBe(1_050);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`Statistics of organization ${org} not refreshed`));
    } finally {
      warn.mockRestore();
    }
  });
});
