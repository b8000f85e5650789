import { Logger } from '@nestjs/common';
import { JobType } from 'src/jobs/job.types';
import { OrganizationStatisticsWatch, type StatisticsAsk } from 'src/scoring/statistics/organization-statistics.watch';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { simulatedClinic } from 'test/scoring/scoring-fixtures';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * A clinic that joins a database holding another through the API's ingestion (docs/scaling.md, "A clinic the
 * statistics do not know"): the statistics watch asks, as its written patients reach 250 and then double, whether the
 * planner's statistics know it, and an `organization-statistics` job (in process here: no REDIS_URL) analyzes the
 * tables they do not, long before its first night.
 */
describe('the statistics of a clinic that joins through the ingestion (real PostgreSQL)', () => {
  let t: TestApp;
  let watch: OrganizationStatisticsWatch;
  let asks: jest.SpyInstance<Promise<StatisticsAsk>, [string, number]>;

  beforeAll(async () => {
    t = await createTestApp();
    // Another clinic, the one the statistics know.
    await simulatedClinic(t.db, 1_200, 3);
    await t.db.query('ANALYZE');
    watch = t.app.get(OrganizationStatisticsWatch);
    asks = jest.spyOn(watch, 'patientsWritten');
  });
  afterAll(() => t.close());

  let sent = 0;
  const patients = (n: number): Record<string, unknown>[] =>
    Array.from({ length: n }, () => {
      sent += 1;
      return { record_type: 'patient', source: 'ehr', external_id: `p${sent}`, name: `Patient ${sent}`, email: `p${sent}@example.com` };
    });
  /** Sends `n` new patients; returns what the watch did after the request, once its ask is done. */
  const ingest = async (org: string, token: string, n: number): Promise<StatisticsAsk[]> => {
    const before = asks.mock.results.length;
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(token),
      payload: { records: patients(n) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().summary.created).toBe(n);
    return Promise.all(asks.mock.results.slice(before).map((r) => r.value as Promise<StatisticsAsk>));
  };
  const estimate = async (table: string, organizationId: string): Promise<number> => {
    const [row] = await t.db.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE organization_id = $1`,
      [organizationId],
    );
    return row['QUERY PLAN'][0].Plan['Plan Rows'];
  };
  const runsOf = (organizationId: string): Promise<{ status: string; result: { analyzed?: string[] } | null }[]> =>
    t.db.query(`SELECT status, result FROM job_runs WHERE organization_id = $1 AND type = $2 ORDER BY queued_at`, [
      organizationId,
      JobType.OrganizationStatistics,
    ]);

  it('is analyzed by a job once it has passed 1,000 patients, asked as its count doubles, and not again once known', async () => {
    const org = (await createOrganization(t.db)).id;
    const token = await memberToken(t, org, 'admin');

    // 600 patients: asked (from 250), but under the 1,000 rows a table needs to be named; the next ask at 1,200.
    expect(await ingest(org, token, 600)).toEqual(['known']);
    expect(await ingest(org, token, 500)).toEqual(['not-due']); // 1,100
    expect(await estimate('patients', org)).toBe(1);
    expect(await runsOf(org)).toEqual([]);

    // 1,300: asked, the tables named, the job enqueued and run.
    expect(await ingest(org, token, 200)).toEqual(['enqueued']);
    const [run] = await eventually(
      () => runsOf(org),
      (runs) => runs.length === 1 && runs[0].status === 'succeeded',
      { what: 'the organization-statistics run' },
    );
    expect(run.result?.analyzed).toEqual(expect.arrayContaining(['patients', 'patient_keys', 'patient_metrics_default']));
    expect(await estimate('patients', org)).toBeGreaterThan(1_000);
    expect(await estimate('patient_metrics', org)).toBeGreaterThan(1_000);

    // Known now: the next ask (at 2,600) names nothing, and no other run is made.
    expect(await ingest(org, token, 1_300)).toEqual(['known']);
    expect(await runsOf(org)).toHaveLength(1);
  });

  it('a clinic under 1,000 patients is asked about but never analyzed', async () => {
    const org = (await createOrganization(t.db)).id;
    const token = await memberToken(t, org, 'admin');
    expect(await ingest(org, token, 200)).toEqual(['not-due']); // under 250
    expect(await ingest(org, token, 700)).toEqual(['known']); // 900
    expect(await ingest(org, token, 99)).toEqual(['not-due']); // 999: the next ask at 1,800
    expect(await runsOf(org)).toEqual([]);
    expect(await estimate('patients', org)).toBe(1);
  });

  // Last: it takes the function away.
  it('a failed ask is logged, and the write it followed succeeds', async () => {
    const org = (await createOrganization(t.db)).id;
    const token = await memberToken(t, org, 'admin');
    await t.db.query('DROP FUNCTION organization_unseen_tables(text[])');
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect(await ingest(org, token, 300)).toEqual(['failed']);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining(`Statistics of organization ${org} not checked`));
      const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1`, [org]);
      expect(n).toBe(300);
    } finally {
      warn.mockRestore();
    }
  });
});
