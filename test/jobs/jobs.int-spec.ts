import { JobCancelledError, type JobContext } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** The job system on the real database, with the in-process queue (no REDIS_URL): runs, retries, dedup, cancel. */
describe('jobs (in process)', () => {
  let t: TestApp;
  let jobs: JobService;
  const calls: { type: string; organizationId: string; attempt: number }[] = [];
  let failUntilAttempt = 0;
  let release: (() => void) | null = null;

  beforeAll(async () => {
    t = await createTestApp({ env: { JOB_ATTEMPTS: '3' } });
    jobs = t.app.get(JobService);
    jobs.register({
      type: 'test-echo',
      run: async (c: JobContext) => {
        calls.push({ type: 'test-echo', organizationId: c.organizationId, attempt: c.attempt });
        if (c.attempt <= failUntilAttempt) throw new Error(`attempt ${c.attempt} failed on purpose`);
        return { echoed: c.payload.value ?? null };
      },
    });
    jobs.register({
      type: 'test-bad-input',
      run: async () => {
        throw new TypeError('the input cannot work');
      },
      retryable: (err) => !(err instanceof TypeError),
    });
    // Writes a row of its organization's in the caller's transaction (a follow-up run by runTogether).
    jobs.register({
      type: 'test-together-write',
      run: async () => ({}),
      runInTransaction: async (db) => {
        const [row] = await db.query<{ n: number }>(`UPDATE organizations SET name = name || '+' WHERE id = $1 RETURNING length(name) AS n`, [db.organizationId]);
        return { length: row.n };
      },
    });
    // What the transaction's settings are for the follow-ups' statements (RUN_TOGETHER_SETTINGS).
    jobs.register({
      type: 'test-together-settings',
      run: async () => ({}),
      runInTransaction: async (db) =>
        (
          await db.query<Record<string, string>>(
            `SELECT current_setting('enable_nestloop') AS nestloop, current_setting('jit') AS jit, current_setting('work_mem') AS work_mem`,
          )
        )[0],
    });
    jobs.register({
      type: 'test-together-fail',
      run: async () => ({}),
      runInTransaction: async () => {
        throw new Error('the second one failed on purpose');
      },
    });
    jobs.register({
      type: 'test-long',
      run: async (c: JobContext) => {
        await new Promise<void>((r) => (release = r));
        await c.progress(0.5); // the safe point where a cancellation is seen
        return {};
      },
    });
  });
  afterAll(() => t.close());

  const status = async (org: string, runId: string) => (await jobs.get(org, runId))!;
  const ended = (org: string, runId: string) =>
    eventually(
      () => status(org, runId),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
      { what: `run ${runId} ended` },
    );

  it('runs a job once, stores its result, and keeps the run', async () => {
    const org = await createOrganization(t.db);
    const run = (await jobs.enqueue('test-echo', org.id, { value: 42 }))!;
    expect(run.status).toBe('queued');
    const done = await ended(org.id, run.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: { echoed: 42 },
      attempts: 1,
      progress: 1,
      error: null,
      worker: jobs.workerName,
    });
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    expect(calls.filter((c) => c.organizationId === org.id)).toEqual([{ type: 'test-echo', organizationId: org.id, attempt: 1 }]);
  });

  it('enqueues the same work once by its dedup key, for each organization', async () => {
    const [a, b] = [await createOrganization(t.db), await createOrganization(t.db)];
    const first = await jobs.enqueue('test-echo', a.id, {}, { dedupKey: 'night-1' });
    const again = await jobs.enqueue('test-echo', a.id, {}, { dedupKey: 'night-1' });
    const other = await jobs.enqueue('test-echo', b.id, {}, { dedupKey: 'night-1' });
    expect(first).not.toBeNull();
    expect(again).toBeNull();
    expect(other).not.toBeNull();
    await ended(a.id, first!.id);
    await ended(b.id, other!.id);
    expect(await t.db.query(`SELECT organization_id FROM job_runs WHERE dedup_key = 'night-1' ORDER BY organization_id`)).toHaveLength(2);
  });

  it('keys the dedup per type: the follow-ups of one recompute are two runs', async () => {
    const org = await createOrganization(t.db);
    const [refresh, rebuild] = await Promise.all([
      jobs.enqueue('test-echo', org.id, {}, { dedupKey: 'after-recompute:r1' }),
      jobs.enqueue('test-bad-input', org.id, {}, { dedupKey: 'after-recompute:r1' }),
    ]);
    expect(refresh).not.toBeNull();
    expect(rebuild).not.toBeNull();
    expect(await jobs.enqueue('test-echo', org.id, {}, { dedupKey: 'after-recompute:r1' })).toBeNull();
    await ended(org.id, refresh!.id);
    await ended(org.id, rebuild!.id);
    const rows = await t.db.query<{ type: string }>(`SELECT type FROM job_runs WHERE organization_id = $1 ORDER BY type`, [org.id]);
    expect(rows.map((r) => r.type)).toEqual(['test-bad-input', 'test-echo']);
  });

  it('retries a failing attempt and records the last error until one succeeds', async () => {
    const org = await createOrganization(t.db);
    failUntilAttempt = 1;
    try {
      const run = (await jobs.enqueue('test-echo', org.id, {}))!;
      const done = await ended(org.id, run.id);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
      expect(calls.filter((c) => c.organizationId === org.id).map((c) => c.attempt)).toEqual([1, 2]);
    } finally {
      failUntilAttempt = 0;
    }
  }, 60_000);

  it('runs a job at once in the caller (runNow), recorded once by its key; a failed attempt is retried by the queue', async () => {
    const org = await createOrganization(t.db);
    const now = (await jobs.runNow('test-echo', org.id, { value: 7 }, { dedupKey: 'after-recompute:n1' }))!;
    // Ended before runNow returned: no queue in between.
    expect(await status(org.id, now.id)).toMatchObject({ status: 'succeeded', result: { echoed: 7 }, attempts: 1, worker: jobs.workerName });
    expect(await jobs.runNow('test-echo', org.id, {}, { dedupKey: 'after-recompute:n1' })).toBeNull();
    failUntilAttempt = 1;
    try {
      const retried = (await jobs.runNow('test-echo', org.id, {}, { dedupKey: 'after-recompute:n2' }))!;
      expect(await status(org.id, retried.id)).toMatchObject({ status: 'queued', error: 'attempt 1 failed on purpose' });
      expect(await ended(org.id, retried.id)).toMatchObject({ status: 'succeeded', attempts: 2, error: null });
    } finally {
      failUntilAttempt = 0;
    }
  }, 60_000);

  it('runs several jobs in one transaction (runTogether): each recorded once as succeeded, or nothing at all when one fails', async () => {
    const org = await createOrganization(t.db);
    const name = async (): Promise<string> => (await t.db.query<{ name: string }>(`SELECT name FROM organizations WHERE id = $1`, [org.id]))[0].name;
    const before = await name();
    const done = await jobs.runTogether(['test-together-write', 'test-together-write'], org.id, { dedupKey: 'after-recompute:t0' });
    // The same type twice under one key: one record (the dedup index), though the work ran twice in the transaction.
    expect(done.map((r) => r.type)).toEqual(['test-together-write']);
    expect(await name()).toBe(`${before}++`);
    const rows = (key: string) =>
      t.db.query<{ type: string; status: string; attempts: number; worker: string; result: unknown; started: boolean; finished: boolean }>(
        `SELECT type, status, attempts, worker, result, started_at IS NOT NULL AS started, finished_at >= started_at AS finished
           FROM job_runs WHERE organization_id = $1 AND dedup_key = $2 ORDER BY type`,
        [org.id, key],
      );
    expect(await rows('after-recompute:t0')).toEqual([
      { type: 'test-together-write', status: 'succeeded', attempts: 1, worker: jobs.workerName, result: { length: before.length + 1 }, started: true, finished: true },
    ]);
    // Listed by the organization's jobs like any run.
    expect((await jobs.list(org.id)).map((r) => [r.type, r.status])).toEqual([['test-together-write', 'succeeded']]);
    // Again under the same key: the work is redone (idempotent), nothing recorded twice.
    expect(await jobs.runTogether(['test-together-write'], org.id, { dedupKey: 'after-recompute:t0' })).toEqual([]);
    expect(await rows('after-recompute:t0')).toHaveLength(1);
    // One fails: the other's work and both records roll back.
    const named = await name();
    await expect(jobs.runTogether(['test-together-write', 'test-together-fail'], org.id, { dedupKey: 'after-recompute:t1' })).rejects.toThrow(
      'the second one failed on purpose',
    );
    expect(await name()).toBe(named);
    expect(await rows('after-recompute:t1')).toEqual([]);
    // The follow-ups' statements are planned without nested loops, JIT, and with the rebuilds' memory (in this
    // transaction only: the pool's connection is back to its defaults after it).
    const [settings] = await jobs.runTogether(['test-together-settings'], org.id, { dedupKey: 'after-recompute:t3' });
    expect(settings.result).toEqual({ nestloop: 'off', jit: 'off', work_mem: '128MB' });
    expect((await t.db.query<{ n: string }>(`SELECT current_setting('enable_nestloop') AS n`))[0].n).toBe('on');
    // A type without an in-transaction form is refused before anything runs.
    await expect(jobs.runTogether(['test-echo'], org.id, { dedupKey: 'after-recompute:t2' })).rejects.toThrow('cannot run in a caller');
    expect(await rows('after-recompute:t2')).toEqual([]);
  }, 60_000);

  it("ends the calling run (finishing) in the follow-ups' records statement: succeeded with its result, only if still running", async () => {
    const org = await createOrganization(t.db);
    const insertRun = async (status: string): Promise<string> =>
      (
        await t.db.query<{ id: string }>(
          `INSERT INTO job_runs (organization_id, type, status, payload, queued_at, started_at, attempts, worker)
           VALUES ($1, 'test-caller', $2, '{}', now(), now(), 1, 'w') RETURNING id`,
          [org.id, status],
        )
      )[0].id;
    const finishing = (runId: string, result: Record<string, unknown>) => ({
      context: { runId, organizationId: org.id } as JobContext,
      result: () => result,
    });
    const running = await insertRun('running');
    const done = await jobs.runTogether(['test-together-write'], org.id, { dedupKey: 'after-recompute:f0', finishing: finishing(running, { n: 1 }) });
    expect(done.map((r) => [r.type, r.status])).toEqual([['test-together-write', 'succeeded']]);
    const row = async (id: string) =>
      (
        await t.db.query<{ status: string; result: unknown; progress: number; finished: boolean; error: string | null; xmin: string }>(
          `SELECT status, result, progress, finished_at IS NOT NULL AND updated_at = finished_at AS finished, error, xmin::text AS xmin FROM job_runs WHERE id = $1`,
          [id],
        )
      )[0];
    const [record] = await t.db.query<{ xmin: string }>(`SELECT xmin::text AS xmin FROM job_runs WHERE organization_id = $1 AND dedup_key = 'after-recompute:f0'`, [org.id]);
    // Written by the same transaction as the records (one statement: the records' INSERT with the end's UPDATE).
    expect(await row(running)).toEqual({ status: 'succeeded', result: { n: 1 }, progress: 1, finished: true, error: null, xmin: record.xmin });
    // A run that is no longer running (cancelled meanwhile) is left as it is; the records are written all the same.
    const cancelled = await insertRun('cancelled');
    await jobs.runTogether(['test-together-write'], org.id, { dedupKey: 'after-recompute:f1', finishing: finishing(cancelled, { n: 2 }) });
    expect(await row(cancelled)).toMatchObject({ status: 'cancelled', result: null });
    expect(await t.db.query(`SELECT 1 FROM job_runs WHERE organization_id = $1 AND dedup_key = 'after-recompute:f1'`, [org.id])).toHaveLength(1);
    // Records already there under the key (nothing inserted): the end is written still.
    const again = await insertRun('running');
    expect(await jobs.runTogether(['test-together-write'], org.id, { dedupKey: 'after-recompute:f0', finishing: finishing(again, { n: 3 }) })).toEqual([]);
    expect(await row(again)).toMatchObject({ status: 'succeeded', result: { n: 3 } });
  }, 60_000);

  it('fails a job whose error a retry cannot help at once, naming the error', async () => {
    const org = await createOrganization(t.db);
    const run = (await jobs.enqueue('test-bad-input', org.id))!;
    expect(await ended(org.id, run.id)).toMatchObject({ status: 'failed', attempts: 1, error: 'TypeError: the input cannot work' });
  });

  it('cancels a running job at its next safe point', async () => {
    const org = await createOrganization(t.db);
    const run = (await jobs.enqueue('test-long', org.id))!;
    await eventually(
      () => status(org.id, run.id),
      (r) => r.status === 'running',
      { what: 'the long job running' },
    );
    expect(await jobs.cancel(org.id, run.id)).toBe(true);
    release?.();
    expect((await ended(org.id, run.id)).status).toBe('cancelled');
    expect(await jobs.cancel(org.id, run.id)).toBe(false); // ended already
  });

  it('a run delivered twice runs once (the claim is atomic)', async () => {
    const org = await createOrganization(t.db);
    const run = (await jobs.enqueue('test-echo', org.id, { value: 'once' }))!;
    await ended(org.id, run.id);
    // A second delivery of the same run (BullMQ can, rarely): claimed by nobody, nothing runs.
    await t.db.query(`SELECT 1`);
    const before = calls.length;
    await (jobs as unknown as { process(job: unknown, attempt: number, final: boolean): Promise<void> }).process(
      { runId: run.id, organizationId: org.id, type: 'test-echo' },
      1,
      true,
    );
    expect(calls.length).toBe(before);
    expect((await status(org.id, run.id)).attempts).toBe(1);
  });

  it('the nightly scheduler enqueues each organization once per local date, in its own time zone', async () => {
    const berlin = await createOrganization(t.db, { timezone: 'Europe/Berlin' });
    const newYork = await createOrganization(t.db, { timezone: 'America/New_York' });
    const nightlyOf = async (org: string) =>
      t.db.query<{ dedup_key: string }>(`SELECT dedup_key FROM job_runs WHERE organization_id = $1 AND type = $2`, [
        org,
        JobType.NightlyRecompute,
      ]);
    // 02:30 UTC: 03:30 in Berlin (due), 21:30 the day before in New York (not due).
    const at = new Date('2026-11-25T02:30:00Z');
    await jobs.scheduleNightly(at);
    await jobs.scheduleNightly(new Date(at.getTime() + 60_000)); // a second tick, or a second instance
    expect(await nightlyOf(berlin.id)).toEqual([{ dedup_key: 'nightly-recompute:2026-11-25' }]);
    expect(await nightlyOf(newYork.id)).toEqual([]);
    await jobs.scheduleNightly(new Date('2026-11-25T08:05:00Z')); // 03:05 in New York
    expect(await nightlyOf(newYork.id)).toEqual([{ dedup_key: 'nightly-recompute:2026-11-25' }]);
    expect(await nightlyOf(berlin.id)).toHaveLength(1);
  });

  it('GET /organizations/{id}/jobs lists the runs newest first for org:manage, and refuses others', async () => {
    const org = await createOrganization(t.db);
    const first = (await jobs.enqueue('test-echo', org.id, { value: 1 }))!;
    await ended(org.id, first.id);
    t.clock.set(new Date(t.clock.now().getTime() + 1000));
    const second = (await jobs.enqueue('test-bad-input', org.id))!;
    await ended(org.id, second.id);
    const owner = await memberToken(t, org.id, Role.Owner);
    const res = await t.inject({ method: 'GET', url: `/api/v1/organizations/${org.id}/jobs`, headers: bearer(owner) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      jobs: { id: string; type: string; status: string; attempts: number; error: string | null; worker: string }[];
    };
    expect(body.jobs.map((j) => [j.id, j.type, j.status, j.attempts, j.error])).toEqual([
      [second.id, 'test-bad-input', 'failed', 1, 'TypeError: the input cannot work'],
      [first.id, 'test-echo', 'succeeded', 1, null],
    ]);
    expect(body.jobs[0].worker).toBe(jobs.workerName);
    for (const role of [Role.Admin, Role.Clinician]) {
      const token = await memberToken(t, org.id, role);
      expect((await t.inject({ method: 'GET', url: `/api/v1/organizations/${org.id}/jobs`, headers: bearer(token) })).statusCode).toBe(403);
    }
    const other = await createOrganization(t.db);
    expect((await t.inject({ method: 'GET', url: `/api/v1/organizations/${other.id}/jobs`, headers: bearer(owner) })).statusCode).toBe(403);
    expect(
      (await t.inject({ method: 'GET', url: `/api/v1/organizations/${org.id}/jobs?limit=0`, headers: bearer(owner) })).statusCode,
    ).toBe(400);
  });

  it('cancellation is an error a job sees as JobCancelledError', () => {
    expect(new JobCancelledError()).toBeInstanceOf(Error);
    expect(new JobCancelledError().message).toBe('The job was cancelled');
  });
});
