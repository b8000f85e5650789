import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Subject, Subscription } from 'rxjs';
import { Clock } from 'src/common/clock/clock';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { localDate, validTimeZone } from 'src/common/time/calendar';
import { RollupStatus } from 'src/engagement/engagement.repository';
import { BuildResult, EngagementRollupRepository } from 'src/engagement/engagement-rollup.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { Database } from 'src/database/database';
import { inSwapFrame, withShortLocks } from 'src/database/partition-tables';
import { hasLivePatients, inTwoHalves } from 'src/database/tenant/halves';
import { REBUILD_SETTINGS } from 'src/database/tenant/rebuild-settings';
import { REBUILD_MIN_PATIENTS } from 'src/scoring/recompute/metrics-partition-swap';
import { EngagementPartitionSwap, hasOwnEngagementPartition } from 'src/engagement/engagement-partition-swap';

type Job = { kind: 'rebuild'; write?: RollupWriteMode } | { kind: 'advance' } | { kind: 'patch'; patientIds: readonly string[] };

/**
 * How a rebuild writes: 'auto' builds and swaps a large organization's rows (from REBUILD_MIN_PATIENTS live patients,
 * when the service has the Database for the owner's connection) and updates the others' in place; 'swap' and
 * 'update' force one way (tests, benchmarks).
 */
export type RollupWriteMode = 'auto' | 'swap' | 'update';

/**
 * Keeps each organization's engagement rollup in step with its records and scores (docs/queries/engagement-overview.md):
 * - after a scoring recompute (`ScoringEvents.recomputed$`; ingestion recomputes the patients it touched): the
 *   recomputed patients are patched, or, after an organization-wide recompute (all scores changed), the rollup is
 *   rebuilt as an `engagement-rebuild` job; then `changed$` tells the overview's cache to forget the organization;
 * - a read never rebuilds it (SnapshotRebuilds): an overview that finds none usable, or one past
 *   SNAPSHOT_MAX_AGE_HOURS, enqueues the rebuild job; one whose cutoff is before today moves it here in the background
 *   (a day's patients patched).
 * Work on one organization runs one job at a time in this process (rebuilds asked for while one waits are one),
 * and under an advisory lock across processes.
 */
@Injectable()
export class EngagementRollupService implements OnModuleInit, OnModuleDestroy {
  /** Organizations whose rollup (and so whose overview) changed. */
  readonly changed$ = new Subject<string>();
  private readonly logger = new Logger(EngagementRollupService.name);
  private readonly queues = new Map<string, { tail: Promise<void>; waiting: Map<Job['kind'], Promise<BuildResult | boolean>> }>();
  private subscription: Subscription | null = null;

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly rollups: EngagementRollupRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly clock: Clock,
    @Optional() private readonly events?: ScoringEvents,
    @Optional() private readonly jobs?: JobService,
    @Optional() private readonly database?: Database,
  ) {}

  onModuleInit(): void {
    this.jobs?.register({
      type: JobType.EngagementRebuild,
      run: async ({ organizationId, payload }) => {
        const result = await this.enqueue(organizationId, { kind: 'rebuild' }, { onlyIfBuilt: payload.onlyIfBuilt === true, coalesce: false });
        return typeof result === 'boolean' ? { rebuilt: result } : { ...result, rebuilt: true };
      },
      // A small organization's nightly follow-up, in the transaction of both (JobService.runTogether), under the
      // rollup's lock (taken with the time zone's read: one statement); this process's queue of the organization is
      // bypassed (the lock orders it with the others), and the announcement that follows tells the overview's cache
      // (changed$). Its statements prepared on the connection (thousands of clinics a night).
      runInTransaction: async (db) => {
        const timeZone = validTimeZone((await this.rollups.lockWithTimeZone(db)) ?? 'UTC');
        return { ...(await this.rollups.rebuild(db, timeZone, this.clock.now(), { settings: false, prepare: true })), rebuilt: true };
      },
    });
    this.subscription =
      this.events?.recomputed$.subscribe(({ organizationId, patientIds, recomputeId, followUpsDone }) => {
        // Patients recomputed here: patched in this process. A whole organization recomputed anywhere: a rebuild
        // job, enqueued once whoever hears the announcement first, and not at all while one is queued (it will
        // read the new scores when it starts), unless the recompute's own job ran it already (followUpsDone: a
        // small organization's nightly run). An organization without a rollup gets its first one then.
        if (patientIds) this.background(organizationId, { kind: 'patch', patientIds }, { onlyIfBuilt: true });
        else if (!followUpsDone && this.jobs) {
          this.jobs
            .enqueue(JobType.EngagementRebuild, organizationId, {}, { dedupKey: `after-recompute:${recomputeId}`, unlessPending: 'queued' })
            .catch((err: unknown) => this.logger.error(`Engagement rollup rebuild after recompute not enqueued: ${(err as Error).message}`));
        } else if (!followUpsDone) this.background(organizationId, { kind: 'rebuild' }, { onlyIfBuilt: false });
        // Either way cached overviews may be out of date.
        if (!patientIds) this.changed$.next(organizationId);
      }) ?? null;
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    await Promise.all([...this.queues.values()].map((q) => q.tail));
  }

  /** Builds the organization's rollup now, after its queued jobs (the CLI, the benchmark and tests call it). */
  async rebuild(organizationId: string, write: RollupWriteMode = 'auto'): Promise<BuildResult> {
    return (await this.enqueue(organizationId, { kind: 'rebuild', write }, { onlyIfBuilt: false, coalesce: false })) as BuildResult;
  }

  /**
   * The upkeep an overview answered from the rollup asks for: a cutoff before today is moved (the patients seen
   * since, patched), in the background. Rebuilds are jobs (SnapshotRebuilds), never started here.
   */
  maintain(organizationId: string, status: RollupStatus): void {
    if (status.use === 'used' && status.cutoff !== null && status.cutoff < status.today) this.background(organizationId, { kind: 'advance' }, { onlyIfBuilt: true });
  }

  /**
   * Takes these patients out of the rollup in the caller's transaction, once their records are deleted (an erasure):
   * under the rollup's lock, their rows and steps go and nothing comes back. Returns how many patient rows went.
   */
  async forgetPatients(db: TenantSql, patientIds: readonly string[]): Promise<number> {
    await this.rollups.lock(db);
    const n = await this.rollups.patientRows(db, patientIds);
    await this.rollups.patch(db, patientIds);
    return n;
  }

  /** Resolves when the organization's queued jobs are done (tests). */
  async settled(organizationId: string): Promise<void> {
    await this.queues.get(organizationId)?.tail;
  }

  private background(organizationId: string, job: Job, options: { onlyIfBuilt: boolean }): void {
    this.enqueue(organizationId, job, { ...options, coalesce: true }).catch((err: unknown) =>
      this.logger.error(`Engagement rollup ${job.kind} of organization ${organizationId} failed: ${(err as Error).message}`),
    );
  }

  /**
   * Runs `job` after the organization's queued jobs and resolves with its result. With `coalesce`, a rebuild or
   * cutoff move already waiting stands for this one (it reads everything when it starts); patches always queue.
   */
  private enqueue(organizationId: string, job: Job, options: { onlyIfBuilt: boolean; coalesce: boolean }): Promise<BuildResult | boolean> {
    const q = this.queues.get(organizationId) ?? { tail: Promise.resolve(), waiting: new Map<Job['kind'], Promise<BuildResult | boolean>>() };
    const waiting = job.kind === 'patch' ? undefined : q.waiting.get(job.kind);
    if (waiting && options.coalesce) return waiting;
    const result = q.tail.then(async () => {
      if (q.waiting.get(job.kind) === result) q.waiting.delete(job.kind);
      try {
        return await this.run(organizationId, job, options);
      } finally {
        // After a recompute or a build, cached overviews may be out of date (with or without a rollup, and even when
        // the job failed); a cutoff move changes no answer.
        if (job.kind !== 'advance') this.changed$.next(organizationId);
      }
    });
    if (job.kind !== 'patch') q.waiting.set(job.kind, result);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    q.tail = tail;
    this.queues.set(organizationId, q);
    void tail.then(() => {
      if (this.queues.get(organizationId)?.tail === tail) this.queues.delete(organizationId);
    });
    return result;
  }

  private async run(organizationId: string, job: Job, options: { onlyIfBuilt: boolean }): Promise<BuildResult | boolean> {
    switch (job.kind) {
      case 'patch':
        return this.locked(organizationId, (db) => this.rollups.patch(db, job.patientIds));
      case 'rebuild': {
        const write = job.write ?? 'auto';
        const database = this.database;
        const swap = database !== undefined && (write === 'swap' || (write === 'auto' && (await hasLivePatients(this.tenantDb, organizationId, REBUILD_MIN_PATIENTS))));
        const result = swap
          ? await this.rebuildBySwap(database, organizationId, options)
          : await this.locked(organizationId, async (db) => {
              if (options.onlyIfBuilt && !(await this.rollups.state(db))) return false;
              return this.rollups.rebuild(db, await this.timeZone(db), this.clock.now());
            });
        if (result) {
          this.logger.log(
            `Engagement rollup of organization ${organizationId}: ${result.patients} patients, ${result.steps} steps, cutoff ${result.cutoff}, ${result.durationMs} ms`,
          );
        }
        return result;
      }
      case 'advance':
        return this.locked(organizationId, async (db) => {
          const timeZone = await this.timeZone(db);
          return this.rollups.advance(db, timeZone, localDate(this.clock.now(), timeZone));
        });
    }
  }


  /**
   * A large organization's rebuild by build and swap (docs/queries/engagement-overview.md, "Upkeep"), as the
   * opportunities' refresh does it: the patients' visit days are inserted into a fresh table in two halves at once
   * (patient ids up to the middle one, and after it: each half one statement in a runtime-role transaction of its own
   * on its own connection, the second on the first's exported snapshot), each half's steps into a table of partial
   * steps; the fresh table's indexes are built on two owner connections; then, in one short transaction, the partial
   * steps are summed and written as the organization's steps, the fresh table replaces the organization's partition
   * of `engagement_patient_days` (its first swap moves it out of the shared DEFAULT partition) and the rollup's row is
   * saved: readers see the old rollup until that commits, then the new one. The rollup's lock is held on the owner's
   * connection (session-level, the key the patches' transactions take) from before the build to after the swap, so no
   * patch, cutoff move or erasure writes the rollup meanwhile. A failure anywhere before the swap's commit drops the
   * fresh tables: the rollup stays as it was (inSwapFrame). False (nothing built) with `onlyIfBuilt` and no rollup.
   */
  private async rebuildBySwap(database: Database, organizationId: string, options: { onlyIfBuilt: boolean }): Promise<BuildResult | false> {
    const started = Date.now();
    const now = this.clock.now();
    const owner = await database.ownerConnection('patient-journey-engagement-swap');
    const lock = { keySql: `hashtextextended('engagement-rollup:' || $1::uuid::text, 0)`, organizationId };
    const swapFor = async (db: Parameters<typeof hasOwnEngagementPartition>[0]): Promise<EngagementPartitionSwap> =>
      new EngagementPartitionSwap(db, organizationId, !(await hasOwnEngagementPartition(db, organizationId)));
    return inSwapFrame(owner, lock, swapFor, async (swap) => {
      await swap.cleanUp();
      await swap.createFresh();
      const tables = { days: swap.tables.fresh, steps: swap.steps.fresh };
      const built = await this.tenantDb.transaction(
        organizationId,
        async (db) => {
          if (options.onlyIfBuilt && !(await this.rollups.state(db))) return null;
          const timeZone = await this.timeZone(db);
          const { cutoff, cutoffAt } = await this.rollups.cutoff(db, timeZone, now);
          const halves = await inTwoHalves(this.tenantDb, db, (half, range) => this.rollups.buildHalf(half, tables, { timeZone, cutoffAt, ...range }), {
            local: REBUILD_SETTINGS,
          });
          return { timeZone, cutoff, patients: halves.reduce((n, h) => n + h, 0) };
        },
        { batch: true, local: REBUILD_SETTINGS, repeatableRead: true },
      );
      if (!built) {
        await swap.cleanUp();
        return false;
      }
      await swap.seal();
      await swap.analyzeFresh();
      await swap.buildIndexesAndKeys(() => database.ownerConnection('patient-journey-engagement-swap'));
      const durationMs = Date.now() - started;
      const steps = await withShortLocks(owner, async () => {
        // The steps first (row locks on the organization's steps only), then the partition under the swap's locks.
        const state = { organizationId, timeZone: built.timeZone, cutoff: built.cutoff, builtAt: now, durationMs };
        const n = await this.rollups.saveSwapped(owner, swap.steps.fresh, state);
        await swap.lockForSwap();
        await swap.replacePartition();
        return n;
      });
      await swap.dropPartialSteps();
      return { organizationId, timezone: built.timeZone, cutoff: built.cutoff, patients: built.patients, steps, durationMs };
    });
  }

  /** One transaction under the organization's rollup lock (one writer at a time across processes). */
  private locked<T>(organizationId: string, work: (db: TenantSql) => Promise<T>): Promise<T> {
    return this.tenantDb.transaction(
      organizationId,
      async (db) => {
        await this.rollups.lock(db);
        return work(db);
      },
      { batch: true },
    );
  }

  private async timeZone(db: TenantSql): Promise<string> {
    return validTimeZone((await this.organizations.own(db))?.timezone ?? 'UTC');
  }
}
