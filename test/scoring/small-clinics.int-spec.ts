import { Clock } from 'src/common/clock/clock';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { RECOMPUTE_SESSION, recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ReusedConnections, reusedConnectionsIdle } from 'src/scoring/recompute/recompute-connections';
import { ScoringEvents, type ScoresRecomputed } from 'src/scoring/scoring-events';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { NightlyRecomputeJob } from 'src/scoring/jobs/nightly-recompute.job';
import { ScoringService } from 'src/scoring/scoring.service';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { recomputeOrganizationWithUrl, simulatedClinic } from 'test/scoring/scoring-fixtures';

const DAY = 86_400_000;

/**
 * A small clinic's nightly run (docs/scaling.md, "Many clinics on one database"): its recent models kept instead of
 * refitted every night, its connections reused from one clinic's run to the next, its follow-ups run in its own job.
 */
describe('small clinics at night', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A clinic of `n` patients whose visits follow the BG/NBD story (enough for an accepted fit). */
  const clinic = (n: number, seed: number): Promise<string> => simulatedClinic(t.db, n, seed);

  const fits = (org: string): Promise<{ settings_key: string | null }[]> =>
    t.db.query(`SELECT settings_key FROM model_fits WHERE organization_id = $1 ORDER BY created_at, model`, [org]);
  const scores = (org: string): Promise<Record<string, unknown>[]> =>
    t.db.query(
      `SELECT patient_id, status, risk_score, engagement_score, ltv_cents, future_value_cents, success_probability FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id`,
      [org],
    );

  it('keeps recent models instead of refitting (the same scores), and refits after a settings change or a week', async () => {
    const org = await clinic(150, 21);
    // No fit yet: fitted (and stored with its settings' key).
    const first = await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
    expect(first).toMatchObject({ patients: 150, fitted: true, refitted: true });
    const stored = await fits(org);
    expect(stored).toHaveLength(2);
    expect(stored[0].settings_key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const before = await scores(org);
    // An hour later: the stored models, the same scores, no new fit.
    const hourLater = new Date(TEST_NOW.getTime() + 3_600_000);
    const again = await recomputeOrganizationWithUrl(t.db.url, org, hourLater, { refit: 'when-due', vacuum: 'own-partition' });
    expect(again).toMatchObject({ patients: 150, fitted: true, refitted: false, fitMs: expect.any(Number) });
    expect(await fits(org)).toHaveLength(2);
    // Scored with the stored models: as a run told not to refit scores them.
    const kept = await scores(org);
    expect(kept).toHaveLength(before.length);
    await recomputeOrganizationWithUrl(t.db.url, org, hourLater, { refit: false, vacuum: false });
    expect(await scores(org)).toEqual(kept);
    expect(await fits(org)).toHaveLength(2);
    // Other settings: a refit at once.
    await t.db.query(`UPDATE organizations SET settings = '{"scoring": {"halfLifeDays": 200}}' WHERE id = $1`, [org]);
    expect(await recomputeOrganizationWithUrl(t.db.url, org, hourLater, { refit: 'when-due' })).toMatchObject({ refitted: true });
    expect(await recomputeOrganizationWithUrl(t.db.url, org, hourLater, { refit: 'when-due' })).toMatchObject({ refitted: false });
    // A week on: a refit.
    const weekLater = new Date(hourLater.getTime() + 7 * DAY);
    expect(await recomputeOrganizationWithUrl(t.db.url, org, weekLater, { refit: 'when-due' })).toMatchObject({ refitted: true });
  });

  it('reuses the connections from one clinic to the next, each bound to its own clinic, without leaving a lock', async () => {
    const [a, b] = [await clinic(60, 31), await clinic(40, 41)];
    const name = 'small-clinics-test';
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'scoring-test' });
    const connections = new ReusedConnections(database, name, RECOMPUTE_SESSION);
    const backends = async (): Promise<number[]> =>
      (await t.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`, [name])).map((r) => r.pid);
    const repos = new ScoringRepositories();
    try {
      expect(await recomputeOrganization(database, repos, a, TEST_NOW, { connections, vacuum: 'own-partition' })).toMatchObject({ patients: 60 });
      const after = await backends();
      expect(after).toHaveLength(2);
      expect(await recomputeOrganization(database, repos, b, TEST_NOW, { connections, vacuum: 'own-partition' })).toMatchObject({ patients: 40 });
      expect(await backends()).toEqual(after);
      // No session advisory lock left on the idle connections.
      expect(await t.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = ANY($1::int[])`, [after])).toEqual([]);
      expect(await scores(a)).toHaveLength(60);
      expect(await scores(b)).toHaveLength(40);
      // A rebound connection sees its new organization's rows only (row-level security on the session's setting).
      const onA = await connections.acquire(a);
      expect(await onA.query(`SELECT count(*)::int AS n FROM patients`)).toEqual([{ n: 60 }]);
      await connections.release(onA, true);
      const onB = await connections.acquire(b);
      expect(onB.organizationId).toBe(b);
      expect(await onB.query(`SELECT count(*)::int AS n FROM patients`)).toEqual([{ n: 40 }]);
      // The handle of A, whose connection B now holds, refuses to run anything (it would run as B).
      await expect(onA.query(`SELECT count(*)::int AS n FROM patients`)).rejects.toThrow('rebound to another organization');
      // A run that did not end cleanly gives its connection back closed.
      await connections.release(onB, false);
      expect(await eventually(backends, (p) => p.length === 1, { what: 'the unclean connection closed' })).toHaveLength(1);
    } finally {
      await connections.close();
      await database.close();
    }
    expect(await eventually(backends, (p) => p.length === 0, { what: 'the idle connections closed' })).toEqual([]);
  });

  it('keeps two connections idle for each run at once, so a worker above concurrency 2 opens no backend after its first runs', async () => {
    const orgs = [await clinic(20, 51), await clinic(20, 52), await clinic(20, 53)];
    const name = 'small-clinics-concurrency-test';
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'scoring-test' });
    const backends = async (): Promise<number[]> =>
      (await t.db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid`, [name])).map(
        (r) => r.pid,
      );
    const repos = new ScoringRepositories();
    // Three runs at once, twice, on one connection source: the idle backends after each round, and how many
    // connections the source opened in all (each a new backend process).
    const twoRounds = async (maxIdle: number): Promise<{ first: number[]; second: number[]; opened: number }> => {
      const connections = new ReusedConnections(database, name, RECOMPUTE_SESSION, { maxIdle });
      const open = jest.spyOn(database, 'batchConnection');
      const round = async (): Promise<number[]> => {
        await Promise.all(
          orgs.map((org) => recomputeOrganization(database, repos, org, TEST_NOW, { connections, vacuum: 'own-partition' })),
        );
        return backends();
      };
      try {
        return { first: await round(), second: await round(), opened: open.mock.calls.length };
      } finally {
        open.mockRestore();
        await connections.close();
        await eventually(backends, (p) => p.length === 0, { what: 'the idle connections closed' });
      }
    };
    try {
      expect(reusedConnectionsIdle(3)).toBe(6);
      const kept = await twoRounds(reusedConnectionsIdle(3));
      expect(kept.first).toHaveLength(6);
      expect(kept.second).toEqual(kept.first);
      expect(kept.opened).toBe(6);
      // The former fixed four: two of the six closed after each round, two new backends opened in the next.
      const four = await twoRounds(4);
      expect(four.first).toHaveLength(4);
      expect(four.second).toHaveLength(4);
      expect(four.opened).toBe(8);
      expect(await scores(orgs[2])).toHaveLength(20);
    } finally {
      await database.close();
    }
    // The worker's ScoringService keeps as many as its JOB_CONCURRENCY needs: three runs at once, twice, open six.
    const appDatabase = t.app.get(Database);
    const scoring = new ScoringService(
      appDatabase,
      t.app.get(TenantDb),
      t.app.get(CrossTenantDb),
      new ScoringRepositories(),
      t.app.get(Clock),
      new ScoringEvents(),
      { jobs: { concurrency: 3 } },
    );
    const open = jest.spyOn(appDatabase, 'batchConnection');
    try {
      for (let round = 0; round < 2; round++)
        await Promise.all(orgs.map((org) => scoring.recomputeOrganization(org, undefined, { announce: false })));
      expect(open.mock.calls.length).toBe(6);
    } finally {
      open.mockRestore();
      await scoring.onModuleDestroy();
    }
  });

  it('commits a transaction left pending (commitWithNext) with the next BEGIN, or before any other statement, a rebind or a close', async () => {
    const [a, b] = [await clinic(5, 71), await clinic(5, 72)];
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'scoring-test' });
    const name = async (org: string): Promise<string> => (await t.db.query<{ name: string }>(`SELECT name FROM organizations WHERE id = $1`, [org]))[0].name;
    const renamed = (c: BatchTenantConnection): Promise<unknown> =>
      c.transaction(() => c.query(`UPDATE organizations SET name = name || '+' WHERE id = $1`, [c.organizationId]), { commitWithNext: true });
    try {
      const before = await name(a);
      let c = await database.batchConnection(a, 'commit-with-next-test');
      await renamed(c);
      // Not committed yet: other sessions do not see it.
      expect(await name(a)).toBe(before);
      // The next transaction's BEGIN commits it (in its message): inside that transaction it is visible to others.
      await c.transaction(async () => expect(await name(a)).toBe(`${before}+`));
      await renamed(c);
      // Another statement first commits it alone.
      expect(await c.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
      expect(await name(a)).toBe(`${before}++`);
      // A failed transaction leaves nothing pending and rolls back its own work.
      await expect(
        c.transaction(async () => {
          await c.query(`UPDATE organizations SET name = name || '!' WHERE id = $1`, [a]);
          throw new Error('failed on purpose');
        }, { commitWithNext: true }),
      ).rejects.toThrow('failed on purpose');
      expect(await name(a)).toBe(`${before}++`);
      // A rebind commits it before binding the connection to the next organization.
      await renamed(c);
      c = await c.rebind(b);
      expect(await name(a)).toBe(`${before}+++`);
      // A close commits it (closing would roll it back).
      const nameB = await name(b);
      await renamed(c);
      await c.end();
      expect(await name(b)).toBe(`${nameB}+`);
    } finally {
      await database.close();
    }
  });

  it("runs a small clinic's follow-ups in its nightly job, each recorded once under the recompute's key", async () => {
    const org = await clinic(80, 51);
    const jobs = t.app.get(JobService);
    const heard: ScoresRecomputed[] = [];
    const subscription = t.app.get(ScoringEvents).recomputed$.subscribe((e) => void heard.push(e));
    expect(await jobs.enqueue(JobType.NightlyRecompute, org, {}, { dedupKey: 'nightly-recompute:2026-11-24' })).not.toBeNull();
    const runs = (
      type: string,
    ): Promise<
      { status: string; dedup_key: string | null; result: Record<string, unknown> | null; attempts: number; worker: string | null }[]
    > =>
      t.db.query(
        `SELECT status, dedup_key, result, attempts, worker FROM job_runs WHERE organization_id = $1 AND type = $2 ORDER BY queued_at`,
        [org, type],
      );
    const [nightly] = await eventually(
      () => runs(JobType.NightlyRecompute),
      (r) => r[0]?.status === 'succeeded',
      { what: 'the nightly run succeeded' },
    );
    // Its end was recorded in the follow-ups' transaction (after which the announcement's time is not in the result).
    expect(nightly.result).toMatchObject({ patients: 80, refitted: true, phases_ms: { follow_ups: expect.any(Number) } });
    expect((nightly.result?.phases_ms as Record<string, unknown>).announce).toBeUndefined();
    expect(nightly.attempts).toBe(1);
    // One transaction wrote the three records: the nightly run's end and both follow-ups' runs.
    const writers = await t.db.query<{ type: string; xmin: string }>(
      `SELECT type, xmin::text AS xmin FROM job_runs WHERE organization_id = $1 ORDER BY type`,
      [org],
    );
    expect(writers.map((w) => w.type)).toEqual([JobType.EngagementRebuild, JobType.NightlyRecompute, JobType.OpportunitiesRefresh]);
    expect(new Set(writers.map((w) => w.xmin)).size).toBe(1);
    // The announcement went out after it, once, marked done.
    expect(
      await eventually(
        () => Promise.resolve(heard.filter((e) => e.organizationId === org)),
        (e) => e.length === 1,
        { what: 'the announcement' },
      ),
    ).toEqual([expect.objectContaining({ organizationId: org, followUpsDone: true })]);
    // The announcement went out after them, marked done: nobody enqueues them again.
    await new Promise((r) => setTimeout(r, 1000));
    const opportunities = await runs(JobType.OpportunitiesRefresh);
    const engagement = await runs(JobType.EngagementRebuild);
    expect(opportunities.map((r) => r.status)).toEqual(['succeeded']);
    expect(engagement.map((r) => r.status)).toEqual(['succeeded']);
    expect(opportunities[0].dedup_key).toMatch(/^after-recompute:[0-9a-f-]{36}$/);
    expect(engagement[0].dedup_key).toBe(opportunities[0].dedup_key);
    // Both in one transaction, each recorded there as its own run: one attempt, by this worker, with its result.
    expect(opportunities[0]).toMatchObject({ attempts: 1, worker: jobs.workerName, result: { organizationId: org, opportunities: expect.any(Number) } });
    expect(engagement[0]).toMatchObject({ attempts: 1, worker: jobs.workerName, result: { organizationId: org, rebuilt: true, patients: expect.any(Number) } });
    // And their work is there: the opportunities' snapshot and the engagement rollup, built as of the run.
    const [built] = await t.db.query<{ opportunities: number; rollups: number }>(
      `SELECT (SELECT count(*) FROM opportunity_refreshes WHERE organization_id = $1)::int AS opportunities,
              (SELECT count(*) FROM engagement_rollups WHERE organization_id = $1)::int AS rollups`,
      [org],
    );
    expect(built).toEqual({ opportunities: 1, rollups: 1 });
    subscription.unsubscribe();
  });
  it("gives the opportunities' rebuild the LTV percentile of the scores it wrote (no read back), the same threshold as the rules' read", async () => {
    const org = await clinic(90, 71);
    const percentile = async (): Promise<number | null> =>
      (
        await t.db.query<{ p: number | null }>(
          `SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents) AS p
             FROM patient_metrics m JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
            WHERE m.organization_id = $1 AND p.deleted_at IS NULL`,
          [org],
        )
      )[0].p;
    await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { refit: 'when-due', vacuum: 'own-partition' });
    // The five highest LTVs' patients deleted since (their metrics rows still there until the next run): the
    // percentile is of the live patients' rows, which the run's write leaves.
    await t.db.query(
      `UPDATE patients SET deleted_at = $2 WHERE id IN (SELECT patient_id FROM patient_metrics WHERE organization_id = $1 ORDER BY ltv_cents DESC, patient_id LIMIT 5)`,
      [org, TEST_NOW],
    );
    const withDeleted = (await t.db.query<{ p: number }>(`SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY ltv_cents) AS p FROM patient_metrics WHERE organization_id = $1`, [org]))[0].p;
    const result = await recomputeOrganizationWithUrl(t.db.url, org, new Date(TEST_NOW.getTime() + DAY), { refit: 'when-due', vacuum: 'own-partition' });
    expect(result.patients).toBe(85);
    const live = await percentile();
    expect(live).not.toBeNull();
    expect(live).not.toBe(withDeleted);
    expect(result.ltvPercentile75Cents).toBe(live);

    // The nightly job hands it to the rebuild, whose lock's statement then reads only the recall setting.
    const repository = t.app.get(OpportunitiesRepository);
    const rules = jest.spyOn(repository, 'lockWithRules');
    const recall = jest.spyOn(repository, 'lockWithRecall');
    try {
      const jobs = t.app.get(JobService);
      expect(await jobs.enqueue(JobType.NightlyRecompute, org, {}, { dedupKey: 'nightly-recompute:2026-11-26' })).not.toBeNull();
      const [refresh] = await eventually(
        () =>
          t.db.query<{ result: { ltvThresholdCents?: number } | null }>(
            `SELECT result FROM job_runs WHERE organization_id = $1 AND type = $2 AND status = 'succeeded'`,
            [org, JobType.OpportunitiesRefresh],
          ),
        (r) => r.length === 1,
        { what: "the opportunities' follow-up" },
      );
      expect(recall).toHaveBeenCalledTimes(1);
      expect(rules).not.toHaveBeenCalled();
      const threshold = await percentile();
      expect(refresh.result?.ltvThresholdCents).toBe(threshold);
      const [state] = await t.db.query<{ ltv_threshold_cents: number }>(`SELECT ltv_threshold_cents FROM opportunity_refreshes WHERE organization_id = $1`, [org]);
      expect(state.ltv_threshold_cents).toBe(threshold);
      // The rules' read (the path without a threshold in hand) gives the same.
      const read = await t.app
        .get(Database)
        .tenants.transaction(org, (db) => repository.lockWithRules(db));
      expect(read.ltvThresholdCents).toBe(threshold);
    } finally {
      rules.mockRestore();
      recall.mockRestore();
    }
  });

  it('keeps a small clinic\'s run succeeded, once, when its announcement fails after its end was recorded', async () => {
    const org = await clinic(60, 61);
    const jobs = t.app.get(JobService);
    const scoring = t.app.get(ScoringService);
    const announce = jest.spyOn(scoring, 'announceRecomputed').mockRejectedValueOnce(new Error('NOTIFY failed'));
    const handler = jest.spyOn(t.app.get(NightlyRecomputeJob), 'run');
    try {
      expect(await jobs.enqueue(JobType.NightlyRecompute, org, {}, { dedupKey: 'nightly-recompute:2026-11-25' })).not.toBeNull();
      const [nightly] = await eventually(
        () => t.db.query<{ status: string; attempts: number; error: string | null }>(
          `SELECT status, attempts, error FROM job_runs WHERE organization_id = $1 AND type = $2`,
          [org, JobType.NightlyRecompute],
        ),
        (r) => r[0]?.status === 'succeeded' && announce.mock.calls.some(([o]) => o === org),
        { what: 'the nightly run succeeded and its announcement tried' },
      );
      // Not failed afterwards, nor retried: one attempt, no error, its scores written.
      await new Promise((r) => setTimeout(r, 500));
      const after = await t.db.query<{ status: string; attempts: number; error: string | null }>(
        `SELECT status, attempts, error FROM job_runs WHERE organization_id = $1 AND type = $2`,
        [org, JobType.NightlyRecompute],
      );
      expect(after).toEqual([{ status: 'succeeded', attempts: 1, error: null }]);
      expect(nightly.attempts).toBe(1);
      expect((await scores(org)).length).toBe(60);
      // The handler itself did not fail (no failed attempt logged, no delivery retried).
      expect(handler).toHaveBeenCalledTimes(1);
      await expect(handler.mock.results[0].value).resolves.toEqual({});
    } finally {
      handler.mockRestore();
      announce.mockRestore();
    }
  });
});
