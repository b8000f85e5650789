import { TenantDb } from 'src/database/tenant/tenant-db';
import { organizationContext } from 'src/scoring/recompute/organization-context';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { ScoresRecomputed, ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringService } from 'src/scoring/scoring.service';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import {
  appointment,
  daysAgo,
  recomputeOrganizationWithUrl,
  metrics,
  patient,
  payment,
  referral,
  scoringOrganization,
  simulatedPatients,
  treatmentPlan,
} from 'test/scoring/scoring-fixtures';

const DAY = 86_400_000;
const today = (d: Date): string => d.toISOString().slice(0, 10);

/** What a recompute stores: values, risk factors, trends, history, model fits, settings overrides. */
describe('recompute: stored metrics', () => {
  let t: TestApp;
  let scoring: ScoringService;

  beforeAll(async () => {
    t = await createTestApp();
    scoring = t.app.get(ScoringService);
  });
  afterAll(() => t.close());

  it('stores sessions, money and dates, and the LTV as the sum of its parts', async () => {
    const org = await scoringOrganization(t.db);
    const alice = await patient(t.db, org, { name: 'Alice ÉXAMPLE' });
    const bob = await patient(t.db, org, { name: 'Bob' });
    await appointment(t.db, org, alice, daysAgo(TEST_NOW, 10), 'completed', 10_000);
    await appointment(t.db, org, alice, daysAgo(TEST_NOW, 100), 'completed', 20_000);
    await appointment(t.db, org, alice, daysAgo(TEST_NOW, -5), 'scheduled');
    await payment(t.db, org, alice, { at: daysAgo(TEST_NOW, 10), cents: 30_000 });
    await payment(t.db, org, alice, { at: daysAgo(TEST_NOW, 5), cents: 2_000, kind: 'refund' });
    await referral(t.db, org, alice, bob, daysAgo(TEST_NOW, 50));
    await payment(t.db, org, bob, { at: daysAgo(TEST_NOW, 40), cents: 50_000 });
    await treatmentPlan(t.db, org, alice, { planned: 10, completed: 3, sessionValueCents: 8_000, status: 'active', startedAt: daysAgo(TEST_NOW, 60), endsAt: daysAgo(TEST_NOW, -60) });

    await scoring.recomputePatients(org, [alice]);
    const m = (await metrics(t.db, alice))!;
    expect(await metrics(t.db, bob)).toBeUndefined(); // only the patients asked for
    // The organization-wide run reads the referred patients' revenue in one pass: the same value.
    await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false });
    expect((await metrics(t.db, alice))!.referral_value_cents).toBe(5_000);
    expect(m).toMatchObject({
      sort_name: 'alice éxample',
      status: 'active',
      total_sessions: 2,
      avg_session_value_cents: 15_000,
      historical_revenue_cents: 28_000,
      referral_value_cents: 5_000, // 10 % of the referred patient's 500.00
      stale: false,
    });
    expect(m.future_value_cents).toBeGreaterThanOrEqual(56_000); // at least the plan's 7 remaining sessions × 80.00
    expect(m.ltv_cents).toBe(m.historical_revenue_cents + m.future_value_cents + m.referral_value_cents);
    expect(m.last_appointment_at?.toISOString()).toBe(daysAgo(TEST_NOW, 10).toISOString());
    expect(m.first_visit_at?.toISOString()).toBe(daysAgo(TEST_NOW, 100).toISOString());
    expect(m.next_appointment_at?.toISOString()).toBe(daysAgo(TEST_NOW, -5).toISOString());
    expect(m.last_contact_at?.toISOString()).toBe(daysAgo(TEST_NOW, 10).toISOString());
    expect(m.success_probability).toBeGreaterThan(0);
    expect(m.success_probability).toBeLessThanOrEqual(1);
    expect(m.risk_score).toBeGreaterThanOrEqual(0);
    expect(m.risk_score).toBeLessThanOrEqual(100);
  });

  it('names the facts behind the largest risk contributions in plain words', async () => {
    const org = await scoringOrganization(t.db);
    const p = await patient(t.db, org, { name: 'Drifting Away' });
    for (const days of [142, 172, 202, 232, 262]) await appointment(t.db, org, p, daysAgo(TEST_NOW, days), 'completed');
    await appointment(t.db, org, p, daysAgo(TEST_NOW, 100), 'no_show');
    await appointment(t.db, org, p, daysAgo(TEST_NOW, 120), 'no_show');

    await scoring.recomputePatients(org, [p]);
    const m = (await metrics(t.db, p))!;
    const texts = m.risk_factors.map((f) => f.text);
    expect(texts).toContain('No visit for 142 days; usually every 30 days');
    expect(texts).toContain('Missed 2 of the last 5 appointments');
    expect(m.risk_factors.map((f) => f.code)).toEqual(expect.arrayContaining(['visitGap', 'noShows']));
    const points = m.risk_factors.map((f) => f.points);
    expect(points).toEqual([...points].sort((a, b) => b - a)); // largest first
    expect(m.status).toBe('at_risk');
    expect(m.risk_level).not.toBe('low');
  });

  it('classifies the trend against the score recorded about 30 days ago, and keeps the history by change', async () => {
    const org = await scoringOrganization(t.db);
    const ids = { worse: await patient(t.db, org), better: await patient(t.db, org), same: await patient(t.db, org), fresh: await patient(t.db, org) };
    for (const id of Object.values(ids)) await appointment(t.db, org, id, daysAgo(TEST_NOW, 200), 'completed');
    await scoring.recomputePatients(org, Object.values(ids));
    const current = (await metrics(t.db, ids.same))!.risk_score;
    const baseline: [string, number][] = [
      [ids.worse, current - 20],
      [ids.better, Math.min(100, current + 20)],
      [ids.same, current - 4],
    ];
    for (const [id, score] of baseline) {
      await t.db.query(`INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score) VALUES ($1, $2, $3, $4)`, [
        org,
        id,
        today(daysAgo(TEST_NOW, 35)),
        score,
      ]);
    }
    await scoring.recomputePatients(org, Object.values(ids));
    expect((await metrics(t.db, ids.worse))!.risk_trend).toBe('declining');
    expect((await metrics(t.db, ids.better))!.risk_trend).toBe('improving');
    expect((await metrics(t.db, ids.same))!.risk_trend).toBe('stable');
    expect((await metrics(t.db, ids.fresh))!.risk_trend).toBe('stable');

    const history = async (id: string): Promise<[string, number][]> =>
      (await t.db.query<{ d: string; s: number }>(`SELECT recorded_on::text AS d, risk_score AS s FROM risk_score_history WHERE patient_id = $1 ORDER BY 1`, [id])).map((r) => [r.d, r.s]);
    const score = async (id: string): Promise<number> => (await metrics(t.db, id))!.risk_score;
    const first = await score(ids.fresh);
    expect(await history(ids.fresh)).toEqual([[today(TEST_NOW), first]]);
    // A day later a new row only when the score moved at least 1 point from the last recorded one.
    t.clock.advanceDays(1);
    const tomorrow = today(t.clock.now());
    try {
      await scoring.recomputePatients(org, [ids.fresh]);
      const next = await score(ids.fresh);
      await t.db.query(`DELETE FROM risk_score_history WHERE patient_id = $1 AND recorded_on = $2`, [ids.fresh, tomorrow]);
      const setRecorded = (value: number): Promise<unknown> =>
        t.db.query(`UPDATE risk_score_history SET risk_score = $2 WHERE patient_id = $1`, [ids.fresh, value]);
      await setRecorded(Math.round((next - 0.9) * 10) / 10);
      await scoring.recomputePatients(org, [ids.fresh]);
      expect(await history(ids.fresh)).toEqual([[today(TEST_NOW), Math.round((next - 0.9) * 10) / 10]]);
      await setRecorded(Math.round((next + 1) * 10) / 10);
      await scoring.recomputePatients(org, [ids.fresh]);
      expect(await history(ids.fresh)).toEqual([
        [today(TEST_NOW), Math.round((next + 1) * 10) / 10],
        [tomorrow, next],
      ]);
    } finally {
      t.clock.set(TEST_NOW);
    }
  });

  it('fits and stores the models per organization, and uses defaults when there is too little data', async () => {
    const big = await scoringOrganization(t.db);
    // 300 patients simulated from the BG/NBD story (weeks), visit values from the Gamma-Gamma story (cents).
    await simulatedPatients(t.db, big, 300, TEST_NOW, { seed: 11, valueSeed: 13 });
    const result = await scoring.recomputeOrganization(big);
    expect(result).toMatchObject({ patients: 300, fitted: true });
    const fits = await t.db.query<{ model: string; params: Record<string, number>; log_likelihood: number; sample_size: number; fitted_at: Date; duration_ms: number }>(
      `SELECT model, params, log_likelihood, sample_size, fitted_at, duration_ms FROM model_fits WHERE organization_id = $1 ORDER BY model`,
      [big],
    );
    expect(fits.map((f) => f.model)).toEqual(['bgnbd', 'gamma_gamma']);
    expect(Object.keys(fits[0].params).sort()).toEqual(['a', 'alpha', 'b', 'r']);
    expect(Object.keys(fits[1].params).sort()).toEqual(['p', 'q', 'v']);
    for (const f of fits) {
      expect(Number.isFinite(f.log_likelihood)).toBe(true);
      expect(f.sample_size).toBe(300);
      expect(f.fitted_at.toISOString()).toBe(TEST_NOW.toISOString());
      expect(f.duration_ms).toBeGreaterThanOrEqual(0);
    }
    const small = await scoringOrganization(t.db);
    const p = await patient(t.db, small);
    await appointment(t.db, small, p, daysAgo(TEST_NOW, 20));
    // In chunks of 70 (boundaries every 17 patients: two chunks of 68, then the last 164 patients in ten pieces of up
    // to 17; models fitted on a sample, here the whole organization): the same metrics.
    const snapshot = (): Promise<Record<string, unknown>[]> =>
      t.db.query(`SELECT patient_id, status, risk_score, engagement_score, ltv_cents, success_probability FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id`, [big]);
    const whole = await snapshot();
    const progress: number[] = [];
    const chunked = await recomputeOrganizationWithUrl(t.db.url, big, TEST_NOW, { chunkSize: 70, onProgress: (done) => progress.push(done) });
    expect(chunked).toMatchObject({ patients: 300, fitted: true });
    // Both connections take chunks in turn: they may finish out of order.
    expect(progress).toHaveLength(13);
    expect(progress[0]).toBe(0);
    expect(progress[12]).toBe(300);
    expect(progress.every((n, i) => i === 0 || n > progress[i - 1])).toBe(true);
    expect(await snapshot()).toEqual(whole);
    expect(await scoring.recomputeOrganization(small)).toMatchObject({ patients: 1, fitted: false });
    // The attempt is stored, not accepted: the request path does not fit again on every context load.
    const attempts = (): Promise<{ model: string; accepted: boolean; params: Record<string, number> }[]> =>
      t.db.query(`SELECT model, accepted, params FROM model_fits WHERE organization_id = $1 ORDER BY fitted_at, model`, [small]);
    expect(await attempts()).toEqual([
      { model: 'bgnbd', accepted: false, params: {} },
      { model: 'gamma_gamma', accepted: false, params: {} },
    ]);
    {
      // The request path's context load, on the organization's tenant handle.
      const repos = new ScoringRepositories();
      const tenantDb = t.app.get(TenantDb);
      const contextOf = (org: string, now: Date) => tenantDb.transaction(org, (db) => organizationContext(repos, db, now));
      const hours = (h: number): Date => new Date(TEST_NOW.getTime() + h * 3_600_000);
      expect((await contextOf(small, hours(23))).models).toBeNull();
      expect(await attempts()).toHaveLength(2);
      // A day later the request path tries again (still too little history: another rejected attempt).
      expect((await contextOf(small, hours(25))).models).toBeNull();
      expect((await attempts()).map((a) => a.accepted)).toEqual([false, false, false, false]);
      // An accepted fit stands until the next one, however old.
      const bigFits = (): Promise<unknown[]> => t.db.query(`SELECT 1 FROM model_fits WHERE organization_id = $1`, [big]);
      const before = (await bigFits()).length; // the two runs above each stored a pair (the same parameters)
      const later = await contextOf(big, hours(24 * 90));
      expect([later.models?.bgnbd, later.models?.gammaGamma]).toEqual(fits.map((f) => f.params));
      expect(await bigFits()).toHaveLength(before);
    }
    expect((await metrics(t.db, p))!.status).toBe('active');
  });

  it('organization-wide writes of more than 500 patients (COPY, then UPDATE and INSERT) keep every row and the counts', async () => {
    const org = await scoringOrganization(t.db);
    const ids = (
      await t.db.query<{ id: string }>(
        `INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'bulk', 'b' || g, 'Bulk ' || g FROM generate_series(1, 600) g RETURNING id`,
        [org],
      )
    ).map((r) => r.id);
    await appointment(t.db, org, ids[0], daysAgo(TEST_NOW, 20));
    // Half of them already have a metrics row (as after an earlier run), half do not.
    await scoring.recomputePatients(org, ids.slice(0, 300));
    const gone = ids[599];
    await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [gone, TEST_NOW]);
    const later = new Date(TEST_NOW.getTime() + DAY);
    expect(await recomputeOrganizationWithUrl(t.db.url, org, later, { vacuum: false })).toMatchObject({ patients: 599 });
    const rows = await t.db.query<{ n: number; fresh: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE computed_at = $2 AND NOT stale)::int AS fresh FROM patient_metrics WHERE organization_id = $1`,
      [org, later],
    );
    expect(rows[0]).toEqual({ n: 599, fresh: 599 });
    expect(await metrics(t.db, gone)).toBeUndefined();
    expect((await metrics(t.db, ids[0]))!.status).toBe('active');
    const counted = await t.db.query<{ n: number }>(`SELECT sum(patients)::int AS n FROM patient_metric_counts WHERE organization_id = $1`, [org]);
    expect(counted[0].n).toBe(599);
    // Every patient has a history row (the first for 299 of them); the next day's scores moved less than a point.
    const history = await t.db.query<{ n: number }>(`SELECT count(DISTINCT patient_id)::int AS n FROM risk_score_history WHERE organization_id = $1`, [org]);
    expect(history[0].n).toBe(599);
  });

  it('applies the organization settings over the defaults', async () => {
    const org = await scoringOrganization(t.db, { settings: { scoring: { activeDays: 10, dormantDays: 15 } } });
    const p = await patient(t.db, org);
    const q = await patient(t.db, org);
    await appointment(t.db, org, p, daysAgo(TEST_NOW, 12));
    await appointment(t.db, org, q, daysAgo(TEST_NOW, 16));
    await scoring.recomputeOrganization(org);
    expect((await metrics(t.db, p))!.status).toBe('dormant');
    expect((await metrics(t.db, q))!.status).toBe('at_risk');
  });

  it('drops the metrics of soft-deleted patients and tells subscribers', async () => {
    const org = await scoringOrganization(t.db);
    const p = await patient(t.db, org);
    await scoring.recomputePatients(org, [p]);
    expect(await metrics(t.db, p)).toBeDefined();
    await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [p, TEST_NOW]);
    const seen: ScoresRecomputed[] = [];
    const subscription = t.app.get(ScoringEvents).recomputed$.subscribe((e) => seen.push(e));
    try {
      await scoring.recomputePatients(org, [p]);
    } finally {
      subscription.unsubscribe();
    }
    expect(await metrics(t.db, p)).toBeUndefined();
    expect(seen).toEqual([{ organizationId: org, patientIds: [p] }]);
  });

  // Its speed is measured by bench/patient-recompute-bench.ts (docs/scoring.md), not asserted here.
  it('recomputing an unchanged patient again stores the same metrics and no new history row', async () => {
    const org = await scoringOrganization(t.db);
    const p = await patient(t.db, org);
    for (let v = 0; v < 12; v++) await appointment(t.db, org, p, daysAgo(TEST_NOW, 15 + 30 * v), v % 4 === 0 ? 'no_show' : 'completed');
    await scoring.recomputePatients(org, [p]); // first call: loads the organization context and fits
    const stored = async (): Promise<unknown> => {
      const { computed_at: _computedAt, ...rest } = (await metrics(t.db, p))!;
      const history = await t.db.query(`SELECT recorded_on::text, risk_score FROM risk_score_history WHERE patient_id = $1 ORDER BY 1`, [p]);
      return { rest, history };
    };
    const first = await stored();
    for (let i = 0; i < 3; i++) await scoring.recomputePatients(org, [p]);
    expect(await stored()).toEqual(first);
    expect((await metrics(t.db, p))!.total_sessions).toBe(9);
  });
});
