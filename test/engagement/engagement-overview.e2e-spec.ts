import { EngagementRepository } from 'src/engagement/engagement.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { EngagementService } from 'src/engagement/engagement.service';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { ScoringService } from 'src/scoring/scoring.service';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { contractErrors } from 'test/utils/contract';
import { createHandmadeClinic, HandmadeClinic } from 'test/journey/support/handmade-clinic';
import type { EngagementOverviewResponse, operations } from '@patient-journey/sdk';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TEST_NOW, TestApp } from 'test/utils/test-app';
import { eventually } from 'test/utils/eventually';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { Database } from 'src/database/database';

interface Trend {
  date: string;
  new_patients: number;
  returning_patients: number;
  engagement_score: number;
}

/** The handmade clinic's weeks with visits in the default window (12 weeks to 2026-11-24, Europe/Berlin). */
const DEFAULT_WINDOW_WEEKS: Trend[] = [
  { date: '2026-09-14', new_patients: 1, returning_patients: 1, engagement_score: 60 },
  { date: '2026-09-28', new_patients: 1, returning_patients: 0, engagement_score: 30 },
  { date: '2026-10-12', new_patients: 0, returning_patients: 1, engagement_score: 30 },
  { date: '2026-10-19', new_patients: 0, returning_patients: 1, engagement_score: 80 },
  { date: '2026-11-09', new_patients: 1, returning_patients: 1, engagement_score: 55 },
  { date: '2026-11-16', new_patients: 0, returning_patients: 1, engagement_score: 80 },
  // Tom's visit at 2026-11-22T23:30Z is Monday 23 November in Berlin.
  { date: '2026-11-23', new_patients: 0, returning_patients: 1, engagement_score: 70 },
];

describe('GET /api/v1/patients/:organizationId/engagement/overview', () => {
  let t: TestApp;
  let clinic: HandmadeClinic;
  let token: string;

  beforeAll(async () => {
    // Callers remembered a minute (the most allowed): the round-trip test counts every connection taken.
    t = await createTestApp({ env: { AUTH_CACHE_SECONDS: '60' } });
    const cipher = t.app.get(PhiCipher);
    clinic = await createHandmadeClinic(t.db, (s) => cipher.encrypt(s) as string);
    token = await memberToken(t, clinic.organizationId, 'analyst');
  });
  afterAll(() => t?.close());

  const get = (query = '', tok = token, organizationId = clinic.organizationId) =>
    t.inject({ method: 'GET', url: `/api/v1/patients/${organizationId}/engagement/overview${query}`, headers: bearer(tok) });

  /** The happy path, through the SDK (`getEngagementOverview`). */
  const overview = async (
    query: operations['getEngagementOverview']['parameters']['query'] = {},
  ): Promise<{ status: number; body: EngagementOverviewResponse }> => {
    const api = await sdkClient(t, token);
    const { data, response } = await api.GET('/api/v1/patients/{organizationId}/engagement/overview', {
      params: { path: { organizationId: clinic.organizationId }, query },
    });
    return { status: response.status, body: data! };
  };

  /** A clinic of its own, for a test that changes records (the shared one must stay as the other tests expect it). */
  const ownClinic = async (): Promise<{ clinic: HandmadeClinic; token: string; get: (query?: string) => ReturnType<typeof get> }> => {
    const own = await createHandmadeClinic(t.db, (s) => t.app.get(PhiCipher).encrypt(s) as string);
    const ownToken = await memberToken(t, own.organizationId, 'analyst');
    return { clinic: own, token: ownToken, get: (query = '') => get(query, ownToken, own.organizationId) };
  };

  /**
   * The overview of `query` once it is cached. The first overview of the clinic starts the rollup's first build in
   * the background, and that build forgets the cached overviews when it ends: priming the cache before the build has
   * ended would race it (the CI run of 2026-11-25 lost that race).
   */
  const cached = async (query: string, organizationId = clinic.organizationId, read = (q: string) => get(q)) => {
    await read(query);
    await t.app.get(EngagementRollupService).settled(organizationId);
    return (await read(query)).json();
  };

  it('defaults to the last 12 weeks by week in the organization time zone, with the counts known in advance', async () => {
    const { status, body } = await overview();
    expect(status).toBe(200);
    expect(contractErrors('engagement-overview.schema.json', body)).toEqual([]);
    const o = body.engagement_overview;
    expect(o.total_patients).toBe(11);
    expect(o.new_patients_this_month).toBe(1);
    expect(o.returning_patients).toBe(3);
    const nonZero = (o.engagement_trends as Trend[]).filter((b) => b.new_patients + b.returning_patients > 0);
    expect(o.engagement_trends).toHaveLength(12);
    expect(o.engagement_trends[0]).toEqual({ date: '2026-09-07', new_patients: 0, returning_patients: 0, engagement_score: 0 });
    expect(nonZero).toEqual(DEFAULT_WINDOW_WEEKS);
    expect(o.satisfaction_metrics).toEqual({
      avg_satisfaction: 3.6,
      satisfaction_distribution: { very_satisfied: 2, satisfied: 1, neutral: 1, dissatisfied: 0, very_dissatisfied: 1 },
      nps_score: 16.7,
    });
  });

  it('counts the same from the records while the scoring engine has not filled first_visit_at', async () => {
    const own = await ownClinic();
    await t.db.query(`UPDATE patient_metrics SET first_visit_at = NULL WHERE organization_id = $1`, [own.clinic.organizationId]);
    const o = (await own.get('?from=2026-09-07&to=2026-11-23')).json().engagement_overview;
    expect([o.new_patients_this_month, o.returning_patients]).toEqual([1, 3]);
    expect((o.engagement_trends as Trend[]).map((b) => [b.new_patients, b.returning_patients])).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
      [1, 0],
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
      [0, 0],
      [1, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('takes from, to and granularity (day, month)', async () => {
    const day = (await overview({ from: '2026-11-01', to: '2026-11-30', granularity: 'day' })).body.engagement_overview;
    expect(day.engagement_trends).toHaveLength(30);
    const byDate = new Map((day.engagement_trends as Trend[]).map((b) => [b.date, b]));
    expect(byDate.get('2026-11-22')?.returning_patients).toBe(0);
    expect(byDate.get('2026-11-23')).toEqual({ date: '2026-11-23', new_patients: 0, returning_patients: 1, engagement_score: 70 });
    expect(byDate.get('2026-11-10')).toEqual({ date: '2026-11-10', new_patients: 1, returning_patients: 0, engagement_score: 60 });
    expect(day.returning_patients).toBe(3);
    expect(day.satisfaction_metrics).toEqual({
      avg_satisfaction: 3.5,
      satisfaction_distribution: { very_satisfied: 0, satisfied: 1, neutral: 1, dissatisfied: 0, very_dissatisfied: 0 },
      nps_score: 0,
    });

    const month = (await overview({ from: '2026-01-01', to: '2026-11-24', granularity: 'month' })).body.engagement_overview;
    expect((month.engagement_trends as Trend[]).map((b) => b.date)).toEqual([
      '2026-01-01',
      '2026-02-01',
      '2026-03-01',
      '2026-04-01',
      '2026-05-01',
      '2026-06-01',
      '2026-07-01',
      '2026-08-01',
      '2026-09-01',
      '2026-10-01',
      '2026-11-01',
    ]);
    // Everybody but Lena (never came) first visited in 2026: all new, nobody returning at the window level. Gail's
    // record is deleted, but her visits of January and February stay in the history.
    expect(month.returning_patients).toBe(0);
    expect((month.engagement_trends as Trend[]).reduce((n, b) => n + b.new_patients, 0)).toBe(11);
    expect(month.total_patients).toBe(11);
  });

  it('answers nulls and zeros for a window without responses or visits', async () => {
    const res = await get('?from=2025-01-01&to=2025-01-31');
    expect(res.statusCode).toBe(200);
    expect(contractErrors('engagement-overview.schema.json', res.json())).toEqual([]);
    const o = res.json().engagement_overview;
    expect(o.returning_patients).toBe(0);
    expect(o.engagement_trends).toHaveLength(5);
    expect(
      (o.engagement_trends as Trend[]).every((b) => b.new_patients === 0 && b.returning_patients === 0 && b.engagement_score === 0),
    ).toBe(true);
    expect(o.satisfaction_metrics).toEqual({
      avg_satisfaction: null,
      satisfaction_distribution: { very_satisfied: 0, satisfied: 0, neutral: 0, dissatisfied: 0, very_dissatisfied: 0 },
      nps_score: null,
    });
  });

  it('serves a repeated request from the cache (aggregates only)', async () => {
    const own = await ownClinic();
    const q = '?from=2026-10-01&to=2026-10-31';
    const first = await cached(q, own.clinic.organizationId, own.get);
    await t.db.query(
      `INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, nps)
       VALUES ($1, 'test', 'late-1', $2, '2026-10-10T10:00:00Z', 1, 0)`,
      [own.clinic.organizationId, own.clinic.ids.ada],
    );
    expect((await own.get(q)).json()).toEqual(first);
    const other = (await own.get('?from=2026-10-01&to=2026-10-30')).json();
    expect(other.engagement_overview.satisfaction_metrics.satisfaction_distribution.very_dissatisfied).toBe(1);
  });

  it('answers a cached overview without a database round trip', async () => {
    const q = '?from=2026-10-05&to=2026-11-15';
    const first = await cached(q);
    expect((await get(q)).json()).toEqual(first); // the caller's identity and the time zone cached again, just now
    // Every way to the database goes through a connection of the app's one pool (Database.pool): TenantDb,
    // CrossTenantDb, the audit writer. The overview reads through TenantDb.read.
    const connections = jest.spyOn(t.app.get(Database).pool, 'connect');
    try {
      const bodies = [];
      for (let i = 0; i < 3; i++) bodies.push((await get(q)).json());
      expect(bodies).toEqual([first, first, first]);
      expect(connections).not.toHaveBeenCalled();
      // The spy sees the overview's reads: another window is not cached and takes a connection.
      expect((await get('?from=2026-10-05&to=2026-11-14')).statusCode).toBe(200);
      expect(connections).toHaveBeenCalled();
    } finally {
      connections.mockRestore();
    }
  });

  it('refuses bad ranges with 400 problems naming the field', async () => {
    for (const [query, field] of [
      ['?from=2026-05-02&to=2026-05-01', 'from'],
      ['?granularity=hour', 'granularity'],
      ['?from=2024-01-01&to=2026-09-27&granularity=day', 'granularity'],
      ['?from=2026-02-30', 'from'],
      ['?to=yesterday', 'to'],
      ['?foo=bar', 'foo'],
    ]) {
      const res = await get(query);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(contractErrors('common.schema.json#/$defs/problem', res.json())).toEqual([]);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await get('?from=2024-01-01&to=2026-09-26&granularity=day')).statusCode).toBe(200);
  });

  it('answers from the rollup once it is built, with the same numbers', async () => {
    const rollup = t.app.get(EngagementRollupService);
    await rollup.settled(clinic.organizationId); // the build the first overview started
    const built = await rollup.rebuild(clinic.organizationId);
    expect([built.timezone, built.cutoff]).toEqual(['Europe/Berlin', '2026-11-24']);
    const query = { timeZone: 'Europe/Berlin', granularity: 'week' as const, from: '2026-09-07', toExclusive: '2026-11-25', monthStart: '2026-11-01', now: t.clock.now() };
    const read = await t.app.get(TenantDb).read(clinic.organizationId, (db) => t.app.get(EngagementRepository).facts(db, query));
    expect(read.source).toBe('rollup');
    const o = (await get()).json().engagement_overview;
    expect([o.new_patients_this_month, o.returning_patients]).toEqual([1, 3]);
    expect((o.engagement_trends as Trend[]).filter((b) => b.new_patients + b.returning_patients > 0)).toEqual(DEFAULT_WINDOW_WEEKS);
  });

  it('forgets cached overviews when the scoring engine recomputes (new visits and scores show)', async () => {
    const { clinic, get } = await ownClinic();
    const q = '?from=2026-11-01&to=2026-11-24&granularity=day';
    const day = (body: { engagement_overview: { engagement_trends: Trend[] } }, date: string): Trend | undefined =>
      body.engagement_overview.engagement_trends.find((b) => b.date === date);
    const before = (await get(q)).json();
    expect(day(before, '2026-11-20')).toEqual({ date: '2026-11-20', new_patients: 0, returning_patients: 0, engagement_score: 0 });
    // Finn (first visit 10 November) comes back on the 20th; written behind the app's back, so still cached...
    await t.db.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status) VALUES ($1, 'test', 'finn-back', $2, '2026-11-20T10:00:00Z', 'visit', 'completed')`,
      [clinic.organizationId, clinic.ids.finn],
    );
    expect((await get(q)).json()).toEqual(before);
    // ...until the scoring engine recomputes him (what ingestion does after a batch).
    await t.app.get(ScoringService).recomputePatients(clinic.organizationId, [clinic.ids.finn]);
    await t.app.get(EngagementRollupService).settled(clinic.organizationId);
    const after = (await get(q)).json();
    expect(day(after, '2026-11-20')?.returning_patients).toBe(1);
    expect(day(after, '2026-11-20')?.engagement_score).toBeGreaterThan(0);
    // Returning at the window level means a first visit before it: Finn's (10 November) is inside.
    expect(after.engagement_overview.returning_patients).toBe(before.engagement_overview.returning_patients);
  });

  it('forgets cached overviews after an ingestion (a walk-in patient is new this month)', async () => {
    const { clinic, get } = await ownClinic();
    const before = (await get()).json().engagement_overview;
    const admin = await memberToken(t, clinic.organizationId, 'admin');
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${clinic.organizationId}/records`,
      headers: bearer(admin),
      payload: {
        records: [
          { record_type: 'patient', source: 'walk-in', external_id: 'w1', name: 'Walter Walkin', email: 'w1@example.com' },
          { record_type: 'appointment', source: 'walk-in', external_id: 'w1-a1', patient_external_id: 'w1', starts_at: '2026-11-23T09:00:00Z', type: 'Check-up', status: 'completed', value: 80 },
        ],
      },
    });
    expect(res.json().summary).toMatchObject({ created: 2, rejected: 0 });
    await t.app.get(EngagementRollupService).settled(clinic.organizationId);
    const after = (await get()).json().engagement_overview;
    expect(after.total_patients).toBe(before.total_patients + 1);
    expect(after.new_patients_this_month).toBe(before.new_patients_this_month + 1);
    const week = (o: { engagement_trends: Trend[] }): Trend | undefined => o.engagement_trends.find((b) => b.date === '2026-11-23');
    expect(week(after)?.new_patients).toBe((week(before)?.new_patients ?? 0) + 1);
  });

  it('never rebuilds the rollup in a read: the first overview waits for its build as a job; one past SNAPSHOT_MAX_AGE_HOURS is served marked stale while a job rebuilds it', async () => {
    const { clinic, get } = await ownClinic();
    const runs = () =>
      t.db.query<{ status: string }>(`SELECT status FROM job_runs WHERE organization_id = $1 AND type = 'engagement-rebuild' ORDER BY queued_at, id`, [
        clinic.organizationId,
      ]);
    const first = await get();
    expect([first.statusCode, first.headers['cache-status']]).toEqual([200, undefined]);
    expect(await eventually(runs, (r) => r[0]?.status === 'succeeded', { what: 'the first build' })).toEqual([{ status: 'succeeded' }]);
    const read = async () =>
      t.app.get(TenantDb).read(clinic.organizationId, (db) =>
        t.app.get(EngagementRepository).rollupFacts(db, { timeZone: 'Europe/Berlin', granularity: 'week', from: '2026-09-07', toExclusive: '2026-11-25', monthStart: '2026-11-01', now: t.clock.now() }),
      );
    expect((await read()).rollup.use).toBe('used');

    // Built 30 hours before now: 4 hours past its lifetime.
    await t.db.query(`UPDATE engagement_rollups SET built_at = $2 WHERE organization_id = $1`, [clinic.organizationId, new Date(TEST_NOW.getTime() - 30 * 3_600_000)]);
    const stale = await get('?from=2026-10-01&to=2026-10-31');
    expect(stale.statusCode).toBe(200);
    expect(contractErrors('engagement-overview.schema.json', stale.json())).toEqual([]);
    expect([stale.headers.age, stale.headers['cache-status']]).toEqual([String(30 * 3600), 'patient-journey-api; hit; ttl=-14400; detail=snapshot-stale']);
    // Its rebuild ran as a job; then the organization's cached overviews were forgotten and the same window is fresh.
    await eventually(runs, (r) => r.length === 2 && r.every((x) => x.status === 'succeeded'), { what: 'the rebuild job' });
    await t.app.get(EngagementRollupService).settled(clinic.organizationId);
    const fresh = await get('?from=2026-10-01&to=2026-10-31');
    expect([fresh.statusCode, fresh.headers.age, fresh.headers['cache-status']]).toEqual([200, undefined, undefined]);
    expect(fresh.json()).toEqual(stale.json());
  });

  it('runs one overview statement at a time per window, however often ingestions change the cache generation', async () => {
    const { clinic, get } = await ownClinic();
    expect((await get()).statusCode).toBe(200); // the first build, then the answer cached
    const service = t.app.get(EngagementService);
    const spy = jest.spyOn(t.app.get(EngagementRepository), 'rollupFacts');
    try {
      const answers = [];
      // Six requests, each after an invalidation (what every ingestion's rollup patch does): six generations.
      for (let i = 0; i < 6; i++) {
        await service.invalidate(clinic.organizationId);
        answers.push(get());
      }
      const done = await Promise.all(answers);
      expect(done.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(new Set(done.map((r) => r.body)).size).toBe(1);
      // One running and one queued behind it, shared by the others (not six statements on the pool).
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("runs the overview's statements in the analytics class (DATABASE_ANALYTICS_STATEMENT_TIMEOUT_MS), other reads in the read class", async () => {
    const db = t.app.get(TenantDb);
    const timeout = (analytics: boolean) =>
      db.read(clinic.organizationId, async (sql) => (await sql.query<{ statement_timeout: string }>('SHOW statement_timeout'))[0].statement_timeout, { analytics });
    expect([await timeout(true), await timeout(false)]).toEqual(['15s', '5s']);
    const spy = jest.spyOn(t.app.get(ReadTenantDb), 'read');
    try {
      expect((await get('?from=2026-03-01&to=2026-03-31')).statusCode).toBe(200);
      expect(spy.mock.calls.map((c) => c[2])).toContainEqual({ analytics: true });
    } finally {
      spy.mockRestore();
    }
  });

  it('needs analytics:read', async () => {
    const frontDesk = await memberToken(t, clinic.organizationId, 'front_desk');
    expect((await get('', frontDesk)).statusCode).toBe(403);
  });
});
