import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Clock } from 'src/common/clock/clock';
import { ShutdownState } from 'src/common/resilience/shutdown-state';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { REBUILD_SETTINGS } from 'src/database/tenant/rebuild-settings';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { JobCancelledError, type JobContext, type JobHandler } from 'src/jobs/job-handler';
import { JobRunsRepository } from 'src/jobs/job-runs.repository';
import { JobStatus, JobType, type JobRunRow } from 'src/jobs/job.types';
import { nightlyRunDue } from 'src/jobs/nightly-schedule';
import type { JobQueue, QueuedJob } from 'src/jobs/queue/job-queue';
import { retryDelayMs } from 'src/jobs/queue/in-process-job-queue';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

/** Injection token of the queue (BullMQ with REDIS_URL, else in process). */
export const JOB_QUEUE = Symbol('JOB_QUEUE');


/**
 * The settings of runTogether's transaction besides its commit's: the rebuilds' (REBUILD_SETTINGS), and no nested
 * loops. Its statements are a small organization's follow-ups, prepared on the pool's connections, whose generic plans
 * are made here: the opportunities' facts joined the clinic's appointments, grouped by patient, to its candidates by
 * a nested loop (the planner takes the candidates joined with their patients for one row: it cannot know that the
 * two are the same patients of one clinic), reading every group again for every candidate (about 14,000 rows for
 * 142 candidates: 3 of the statement's 5 ms); a hash or merge join reads each once. The other statements' plans
 * (the rollup's hash joins, the locks) are the same either way. docs/scaling.md, "The night's CPU per clinic".
 */
const RUN_TOGETHER_SETTINGS = [...REBUILD_SETTINGS, 'enable_nestloop = off'] as const;

/** Progress is written at most this often per run. */
const PROGRESS_EVERY_MS = 1000;

const messageOf = (err: unknown): string => (err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err)).slice(0, 500);

/**
 * The one job mechanism (docs/architecture.md, "Add a job"): every background job (the nightly recompute, the
 * opportunities refresh, the engagement rebuild, and the exports, imports and sweeps to come) is a `job_runs` row
 * plus a message on the queue. Features register a JobHandler per type; `enqueue` records the run (deduplicated by
 * key: the same work enqueued twice, by two instances or a retried request, is one run) and queues it; a worker
 * claims the run, runs the handler, and records the outcome.
 *
 * Roles (PROCESS_ROLE): `all` and `worker` run jobs and the nightly scheduler's tick; `api` only enqueues. On start a
 * running process re-queues the runs it finds unfinished (after a crash, or a Redis that lost its queue): claiming a
 * run is atomic, so a run still alive elsewhere is not run twice.
 */
@Injectable()
export class JobService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobService.name);
  private readonly handlers = new Map<string, JobHandler>();
  /** Periodic upkeep run on the scheduler's tick (once per interval across workers): name → task. */
  private readonly periodic = new Map<string, () => Promise<unknown>>();
  /** Runs whose end their handler recorded already (runTogether's `finishing`): process() records nothing more. */
  private readonly endedHere = new Set<string>();
  /** Runs in progress here, by run id: aborted on cancel or shutdown. */
  private readonly running = new Map<string, AbortController>();
  readonly workerName = `${hostname()}:${process.pid}`;
  private started = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly crossTenant: CrossTenantDb,
    private readonly runs: JobRunsRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly clock: Clock,
    @Inject(SETTINGS) private readonly settings: Settings,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Optional() private readonly shutdown?: ShutdownState,
  ) {}

  /** Called by each feature module for its job types (at module init). */
  register(handler: JobHandler): void {
    if (this.handlers.has(handler.type)) throw new Error(`Two handlers for job type ${handler.type}`);
    this.handlers.set(handler.type, handler);
  }

  /** A task for the scheduler's tick (e.g. deleting expired files): it must be cheap and idempotent. */
  onTick(name: string, task: () => Promise<unknown>): void {
    this.periodic.set(name, task);
  }

  /** Whether this process runs jobs (PROCESS_ROLE all or worker). */
  get runsJobs(): boolean {
    return this.settings.jobs.role !== 'api';
  }

  /**
   * Records and queues a run of `type` for the organization. With `dedupKey`, null when a run of that type with that key exists
   * already (the work was enqueued before). With `unlessPending`, null when the organization has a run of that type
   * not started yet (`queued`: it will see everything when it starts) or not ended (`unfinished`: one at a time,
   * e.g. a refresh asked for by reads).
   */
  async enqueue(
    type: string,
    organizationId: string,
    payload: Record<string, unknown> = {},
    options: { dedupKey?: string; delayMs?: number; unlessPending?: 'queued' | 'unfinished' } = {},
  ): Promise<JobRunRow | null> {
    const row = { type, payload, dedupKey: options.dedupKey ?? null, now: this.clock.now() };
    const pending = options.unlessPending;
    const run = pending
      ? await this.tenantDb.transaction(organizationId, (db) => this.runs.insertUnlessPending(db, row, pending))
      : await this.tenantDb.statements(organizationId, (db) => this.runs.insert(db, row));
    if (run) await this.queue.add({ runId: run.id, organizationId, type }, { attempts: this.settings.jobs.attempts, delayMs: options.delayMs });
    return run;
  }

  /**
   * Records a run of `type` and runs it here at once, inside the caller's own job, without the queue's round trips
   * (a small organization's nightly follow-ups: src/scoring/jobs/nightly-recompute.job.ts). Deduplicated like
   * `enqueue` (null: the work was recorded before). A failed attempt goes to the queue for the retries left.
   */
  async runNow(type: string, organizationId: string, payload: Record<string, unknown> = {}, options: { dedupKey?: string } = {}): Promise<JobRunRow | null> {
    const row = { type, payload, dedupKey: options.dedupKey ?? null, now: this.clock.now() };
    const run = await this.tenantDb.statements(organizationId, (db) => this.runs.insert(db, row));
    if (!run) return null;
    const job = { runId: run.id, organizationId, type };
    const attempts = this.settings.jobs.attempts;
    await this.process(job, 1, attempts <= 1).catch(() =>
      // Left queued with its error by the failed attempt: the queue takes the retries.
      this.queue.add(job, { attempts: attempts - 1, delayMs: retryDelayMs(1) }),
    );
    return run;
  }

  /**
   * Runs jobs of these types here, one after the other, in ONE transaction of the organization, and records each as
   * a succeeded run of its own (its type, `dedupKey`, result, start and end; `GET .../jobs` lists them) in the same
   * transaction: the work and its records commit together, or nothing does (no run recorded then, and the caller
   * falls back to the queue). One BEGIN/COMMIT and one job_runs statement for all, where `runNow` spends per job a
   * transaction of its own and four job_runs statements (insert, claim, end, each a commit), and the queued and
   * running versions of each row (dead rows, with autovacuum off). Each type's handler must have `runInTransaction`.
   * The commit does not wait for its WAL flush (`synchronous_commit = off`): what it writes is derived data, and the
   * caller's own end (the nightly run's `succeeded`, a synchronous commit) flushes it; a crash before that leaves the
   * caller's run unfinished, retried with these. `finishing`: the calling run (a job's context) ends in this same
   * transaction, in the records' statement, succeeded with `result()` (called last, just before that statement, so
   * that it can time the follow-ups), and the commit then
   * waits for its flush as that run's own end did; its handler must return nothing more of note after this (what it
   * returns is not recorded: JobService records the run's end only once). Returns the runs recorded (a type whose key
   * was recorded before is left out: its work was done again, idempotently). `given`: per type, what the caller has
   * in hand for that type's handler (its runInTransaction's `given`: values it would otherwise read again, such as
   * the nightly recompute's LTV percentile); not part of the runs' records.
   */
  async runTogether(
    types: readonly string[],
    organizationId: string,
    options: {
      dedupKey: string;
      finishing?: { context: JobContext; result: () => Record<string, unknown> };
      given?: Readonly<Record<string, Record<string, unknown>>>;
    },
  ): Promise<JobRunRow[]> {
    const handlers = types.map((type) => {
      const handler = this.handlers.get(type);
      if (!handler?.runInTransaction) throw new Error(`Job type ${type} cannot run in a caller's transaction here`);
      return handler as JobHandler & Required<Pick<JobHandler, 'runInTransaction'>>;
    });
    const queuedAt = this.clock.now();
    return this.tenantDb
      .transaction(
        organizationId,
        async (db) => {
          const done = [];
          for (const handler of handlers) {
            const startedAt = this.clock.now();
            const result = await handler.runInTransaction(db, { organizationId, payload: {}, given: options.given?.[handler.type] });
            done.push({
              type: handler.type,
              payload: {},
              dedupKey: options.dedupKey,
              result,
              queuedAt,
              startedAt,
              finishedAt: this.clock.now(),
            });
          }
          // The calling run's end in the same transaction (`finishing`): its `succeeded` and result commit with the
          // work, one commit instead of two, and are written by the records' statement, one round trip instead of
          // two (its result's follow-ups time is taken just before it); process() then records nothing more for it
          // (endedHere).
          const finishing = options.finishing;
          return this.runs.insertSucceeded(
            db,
            done,
            this.workerName,
            finishing ? { id: finishing.context.runId, result: finishing.result(), now: this.clock.now() } : undefined,
          );
        },
        // Sent with the BEGIN: the commit's (above) and the rebuilds' own (no JIT, memory to hash an organization's
        // rows), which their runInTransaction leaves to this transaction. A transaction that ends the calling run
        // waits for its WAL flush, as that run's end always did (a run's end is what a restart trusts). No nested
        // loops (RUN_TOGETHER_SETTINGS): the statements here are a small organization's, prepared, and their generic
        // plans are made in this transaction.
        { batch: true, local: [...(options.finishing ? [] : ['synchronous_commit = off']), ...RUN_TOGETHER_SETTINGS] },
      )
      .then((recorded) => {
        if (options.finishing) this.endedHere.add(options.finishing.context.runId);
        return recorded;
      });
  }

  /** The organization's recent runs, newest first. */
  list(organizationId: string, limit = 50, type?: string): Promise<JobRunRow[]> {
    return this.tenantDb.statements(organizationId, (db) => this.runs.recent(db, limit, type));
  }

  get(organizationId: string, runId: string): Promise<JobRunRow | null> {
    return this.tenantDb.statements(organizationId, (db) => this.runs.byId(db, runId));
  }

  /** Cancels a run that has not ended; a running one stops at its next safe point (JobContext.progress). */
  async cancel(organizationId: string, runId: string): Promise<boolean> {
    const cancelled = await this.tenantDb.statements(organizationId, (db) => this.runs.cancel(db, runId, this.clock.now()));
    this.running.get(runId)?.abort();
    return cancelled;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runsJobs) return;
    await this.recover();
    const tick = {
      everyMs: this.settings.jobs.schedulerIntervalSeconds * 1000,
      run: async (): Promise<void> => {
        await this.scheduleNightly().catch((err: unknown) => this.logger.warn(`The nightly scheduler's tick failed: ${messageOf(err)}`));
        for (const [name, task] of this.periodic) await task().catch((err: unknown) => this.logger.warn(`Periodic task ${name} failed: ${messageOf(err)}`));
      },
    };
    await this.queue.work((job, attempt, final) => this.process(job, attempt, final), tick, this.settings.jobs.concurrency);
    this.started = true;
  }

  /**
   * Shutdown, before the pool closes: no new job starts; the running ones may finish until the shutdown's deadline
   * (SHUTDOWN_GRACE_SECONDS from SIGTERM), then stop at their next safe point and are handed back (re-queued: the
   * next process resumes them). Without a draining shutdown (tests, commands), at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopping) return this.stopping;
    const left = this.shutdown?.draining ? this.shutdown.deadline - Date.now() : 0;
    const timer = setTimeout(() => this.abortAll(), Math.max(0, left));
    this.stopping = this.queue.close().finally(() => clearTimeout(timer));
    return this.stopping;
  }

  async onApplicationShutdown(): Promise<void> {
    this.abortAll();
    await this.beforeApplicationShutdown();
  }

  private abortAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  /**
   * The nightly scheduler's tick: for every organization whose local nightly time (NIGHTLY_RECOMPUTE_AT) has come
   * within the window, its night's recompute and its retention sweep, each enqueued once (dedup key per local date).
   */
  async scheduleNightly(now: Date = this.clock.now()): Promise<number> {
    const organizations = await this.organizations.all(this.crossTenant);
    let enqueued = 0;
    for (const org of organizations) {
      const key = nightlyRunDue(now, org.timezone, this.settings.jobs.nightlyAt);
      if (!key) continue;
      if (await this.enqueue(JobType.NightlyRecompute, org.id, {}, { dedupKey: key })) enqueued++;
      // The night's retention sweep too (docs/privacy.md, "Retention"), once per local date.
      await this.enqueue(JobType.RetentionSweep, org.id, {}, { dedupKey: key.replace('nightly-recompute', 'retention-sweep') });
    }
    if (enqueued > 0) this.logger.log(`Nightly recompute enqueued for ${enqueued} organization(s)`);
    return enqueued;
  }

  /** Re-queues every unfinished run (BullMQ ignores a job id it holds already; a live run cannot be claimed twice). */
  private async recover(): Promise<void> {
    const unfinished = await this.runs.unfinished(this.crossTenant);
    for (const run of unfinished) {
      await this.queue.add({ runId: run.id, organizationId: run.organizationId, type: run.type }, { attempts: this.settings.jobs.attempts });
    }
    if (unfinished.length > 0) this.logger.log(`Re-queued ${unfinished.length} unfinished job run(s)`);
  }

  /** Runs one delivered job: claim, run the handler, record the outcome. Throws to make the queue retry. */
  private async process(job: QueuedJob, attempt: number, final: boolean): Promise<void> {
    const now = this.clock.now();
    const run = await this.tenantDb.statements(job.organizationId, (db) => this.runs.claim(db, job.runId, this.workerName, now));
    if (!run) return; // ended already (succeeded, failed or cancelled): a duplicate delivery
    const handler = this.handlers.get(run.type);
    if (!handler) {
      await this.fail(run, `No handler for job type ${run.type} in this process`);
      return;
    }
    const controller = new AbortController();
    this.running.set(run.id, controller);
    // A job of under a second writes no progress (its claim and its end say it all): a night of thousands of small
    // clinics' runs spent two statements each on it.
    let lastProgress = Date.now();
    const context: JobContext = {
      runId: run.id,
      organizationId: run.organizationId,
      payload: run.payload,
      attempt: run.attempts,
      signal: controller.signal,
      progress: async (fraction) => {
        if (controller.signal.aborted) throw new JobCancelledError();
        if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
        lastProgress = Date.now();
        const status = await this.tenantDb.statements(run.organizationId, (db) => this.runs.progress(db, run.id, fraction));
        if (status === JobStatus.Cancelled) {
          controller.abort();
          throw new JobCancelledError();
        }
      },
    };
    try {
      const result = (await handler.run(context)) ?? {};
      if (!this.endedHere.delete(run.id))
        await this.tenantDb.statements(run.organizationId, (db) => this.runs.succeed(db, run.id, result, this.clock.now()));
    } catch (err) {
      if (err instanceof JobCancelledError || controller.signal.aborted) {
        if (!this.started || (await this.get(run.organizationId, run.id))?.status === JobStatus.Cancelled) return;
        // Aborted by a shutdown: left queued for the next process (recover).
        await this.tenantDb.statements(run.organizationId, (db) => this.runs.retryLater(db, run.id, 'The process stopped; resumed by the next', this.clock.now()));
        return;
      }
      const retry = !final && (handler.retryable?.(err) ?? true);
      const message = messageOf(err);
      this.logger.warn(`Job ${run.type} ${run.id} of organization ${run.organizationId} failed (attempt ${attempt}): ${message}`);
      if (!retry) {
        await this.fail(run, message);
        return;
      }
      await this.tenantDb.statements(run.organizationId, (db) => this.runs.retryLater(db, run.id, message, this.clock.now()));
      throw err;
    } finally {
      this.running.delete(run.id);
      this.endedHere.delete(run.id);
    }
  }

  private async fail(run: JobRunRow, error: string): Promise<void> {
    await this.tenantDb.statements(run.organizationId, (db) => this.runs.fail(db, run.id, error, this.clock.now()));
  }
}
