import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { Clock } from 'src/common/clock/clock';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { DEFAULT_RECALL_DAYS } from 'src/opportunities/domain/opportunity-rules';
import { OpportunitiesRepository, REFRESH_LOCK_KEY, SAVE_REFRESH_SQL } from 'src/opportunities/opportunities.repository';
import { hasOwnOpportunitiesPartition, OpportunitiesPartitionSwap, opportunityTables } from 'src/opportunities/opportunities-partition-swap';
import { Database } from 'src/database/database';
import { inSwapFrame, withShortLocks } from 'src/database/partition-tables';
import { hasLivePatients, inTwoHalves } from 'src/database/tenant/halves';
import { REBUILD_MIN_PATIENTS } from 'src/scoring/recompute/metrics-partition-swap';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';


/**
 * How a refresh writes: 'auto' builds and swaps a large organization's rows (from REBUILD_MIN_PATIENTS live patients,
 * when the refresher has the Database for the owner's connection) and updates the others' in place; 'swap' and
 * 'update' force one way (tests, benchmarks).
 */
export type OpportunitiesWriteMode = 'auto' | 'swap' | 'update';

export interface RefreshResult {
  organizationId: string;
  opportunities: number;
  ltvThresholdCents: number;
  durationMs: number;
}

/**
 * Rebuilds an organization's reengagement opportunities from `patient_metrics` and the records, in one
 * transaction, always as an `opportunities-refresh` job (src/jobs/) or from `node scripts/cli.js
 * cli/opportunities-refresh`, never inside a request: after every organization-wide scoring recompute
 * (`ScoringEvents.recomputed$` without patient ids), and when a read finds the snapshot missing or past
 * SNAPSHOT_MAX_AGE_HOURS (SnapshotRebuilds: one queued or running at a time). Patients recomputed in this process
 * (an ingestion) are reclassified at once (`refreshPatients`). Both classify in the database, by the same statement
 * (src/opportunities/opportunities.sql.ts: the rules of `domain/opportunity-rules.ts` in SQL): a rebuild is one
 * comparison of the rows found with the organization's stored ones that writes only those that differ, a patch one
 * INSERT ... SELECT for its patients. A large organization (from REBUILD_MIN_PATIENTS live patients, the metrics'
 * threshold) is rebuilt by build and swap instead (`rebuildBySwap`) when the owner's connection is at hand (`database`).
 */
@Injectable()
export class OpportunitiesRefresher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OpportunitiesRefresher.name);
  private readonly running = new Map<string, Promise<RefreshResult>>();
  /** Per organization: the patch transaction running, the next one (shared by its callers) and the patients it will take. */
  private readonly patches = new Map<string, { pending: Set<string>; running: Promise<number> | null; next: Promise<number> | null }>();
  private subscription: Subscription | null = null;

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: OpportunitiesRepository,
    private readonly clock: Clock,
    @Optional() private readonly events?: ScoringEvents,
    @Optional() private readonly jobs?: JobService,
    @Optional() private readonly database?: Database,
  ) {}

  onModuleInit(): void {
    this.jobs?.register({
      type: JobType.OpportunitiesRefresh,
      run: async ({ organizationId, progress }) => ({ ...(await this.refresh(organizationId, progress)) }),
      // A small organization's nightly follow-up, in the transaction of both (JobService.runTogether).
      // `given.ltvThresholdCents`: the nightly recompute's percentile of the LTVs it wrote (no need to read them back).
      runInTransaction: async (db, { given }) => {
        const threshold = given?.ltvThresholdCents;
        const ltvThresholdCents = typeof threshold === 'number' && Number.isFinite(threshold) ? threshold : undefined;
        return { ...(await this.rebuildOn(db, Date.now(), this.clock.now(), undefined, { small: true, ltvThresholdCents })) };
      },
    });
    this.subscription =
      this.events?.recomputed$.subscribe(({ organizationId, patientIds, recomputeId, followUpsDone }) => {
        // Patients recomputed here (an ingestion): reclassified in the request's aftermath. A whole organization
        // recomputed anywhere: its refresh is a job, enqueued once whoever hears the announcement first (and not
        // at all while one is queued: it will read the new scores when it starts), unless the recompute's own job
        // ran it already (followUpsDone: a small organization's nightly run).
        if (followUpsDone) return;
        const work = patientIds
          ? this.refreshPatients(organizationId, patientIds)
          : this.jobs
            ? this.jobs.enqueue(
                JobType.OpportunitiesRefresh,
                organizationId,
                {},
                { dedupKey: `after-recompute:${recomputeId}`, unlessPending: 'queued' },
              )
            : this.refresh(organizationId);
        work.catch((err: unknown) => this.logger.error(`Opportunity refresh after recompute failed: ${(err as Error).message}`));
      }) ?? null;
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Reclassifies some patients (after their scores were recomputed) against the organization's current threshold,
   * adjusting the totals. Does nothing before the first full rebuild, which will see them anyway. One transaction at
   * a time per organization in this process: the patients asked for meanwhile are merged into the next one (every
   * ingestion asks; each waiting on the organization's lock in a transaction of its own held a pool connection
   * idle, and a stream of ingestions starved the pool). Resolves with the batch's opportunities found.
   */
  refreshPatients(organizationId: string, patientIds: readonly string[]): Promise<number> {
    if (patientIds.length === 0) return Promise.resolve(0);
    let q = this.patches.get(organizationId);
    if (!q) {
      q = { pending: new Set<string>(), running: null, next: null };
      this.patches.set(organizationId, q);
    }
    const queue = q;
    for (const id of patientIds) queue.pending.add(id);
    if (queue.next) return queue.next;
    const start = (): Promise<number> => {
      const batch = [...queue.pending];
      queue.pending.clear();
      queue.next = null;
      const run = this.patchNow(organizationId, batch);
      queue.running = run;
      void run
        .catch(() => undefined)
        .finally(() => {
          if (queue.running === run) queue.running = null;
          if (!queue.running && !queue.next && queue.pending.size === 0 && this.patches.get(organizationId) === queue)
            this.patches.delete(organizationId);
        });
      return run;
    };
    queue.next = (queue.running ?? Promise.resolve(0)).catch(() => 0).then(start);
    return queue.next;
  }

  private async patchNow(organizationId: string, patientIds: readonly string[]): Promise<number> {
    await this.running.get(organizationId)?.catch(() => undefined);
    const now = this.clock.now();
    return this.tenantDb.transaction(organizationId, async (db) => {
      await this.repository.lock(db);
      const state = await this.repository.refreshStateForUpdate(db);
      if (!state) return 0;
      // The threshold of the last rebuild (not the percentile again: a read of the whole organization per patch).
      const org = { ltvThresholdCents: state.ltvThresholdCents, recallDays: (await this.repository.recallDays(db)) ?? DEFAULT_RECALL_DAYS };
      const totals = new Map(state.totals.map((t) => [`${t.type}:${t.priority}`, { ...t }]));
      for (const old of await this.repository.remove(db, patientIds)) {
        const t = totals.get(`${old.type}:${old.priority}`);
        if (t) {
          t.count -= 1;
          t.valueCents -= old.valueCents;
        }
      }
      const found = await this.repository.classifyInto(db, { now, rules: org, patientIds });
      for (const t of found) add(totals, t);
      await this.repository.saveTotals(
        db,
        [...totals.values()].filter((t) => t.count > 0),
      );
      return found.reduce((n, t) => n + t.count, 0);
    });
  }

  /**
   * Removes these patients' opportunities in the caller's transaction (an erasure), taking them out of the totals;
   * returns how many went.
   */
  async forgetPatients(db: TenantSql, patientIds: readonly string[]): Promise<number> {
    await this.repository.lock(db);
    const state = await this.repository.refreshStateForUpdate(db);
    const removed = await this.repository.remove(db, patientIds);
    if (state && removed.length > 0) {
      const totals = new Map(state.totals.map((t) => [`${t.type}:${t.priority}`, { ...t }]));
      for (const old of removed) {
        const t = totals.get(`${old.type}:${old.priority}`);
        if (t) {
          t.count -= 1;
          t.valueCents -= old.valueCents;
        }
      }
      await this.repository.saveTotals(
        db,
        [...totals.values()].filter((t) => t.count > 0),
      );
    }
    return removed.length;
  }

  /**
   * Single-flight per organization within this process (and an advisory lock across processes). `progress` (a job's)
   * hears when the rebuild's statement is done, and may throw to stop it there (cancelled, shutting down): the
   * transaction rolls back and the previous snapshot stays.
   */
  refresh(organizationId: string, progress?: (fraction: number) => Promise<void>, write: OpportunitiesWriteMode = 'auto'): Promise<RefreshResult> {
    const current = this.running.get(organizationId);
    if (current) return current;
    const run = this.rebuild(organizationId, progress, write).finally(() => this.running.delete(organizationId));
    this.running.set(organizationId, run);
    return run;
  }

  private async rebuild(organizationId: string, progress: ((fraction: number) => Promise<void>) | undefined, write: OpportunitiesWriteMode): Promise<RefreshResult> {
    const started = Date.now();
    const now = this.clock.now();
    const swap = write === 'swap' || (write === 'auto' && (await this.isLarge(organizationId)));
    if (swap && this.database) return this.rebuildBySwap(this.database, organizationId, started, now, progress);
    return this.tenantDb.transaction(organizationId, (db) => this.rebuildOn(db, started, now, progress), { batch: true });
  }

  /** Whether the organization has at least REBUILD_MIN_PATIENTS live patients. */
  private isLarge(organizationId: string): Promise<boolean> {
    return hasLivePatients(this.tenantDb, organizationId, REBUILD_MIN_PATIENTS);
  }

  /**
   * A large organization's rebuild by build and swap (docs/performance.md, "The opportunities refresh by build and
   * swap"): its opportunities are inserted into a fresh table without indexes (one statement, the runtime role's
   * transaction: the rows, and the instants each keeps, those the update path would leave), its indexes built and its
   * primary key added on the owner's connection, then, in one short transaction, the fresh table replaces the
   * organization's partition (its first swap moves it out of the shared DEFAULT partition) and the refresh state is
   * saved: readers see the old rows and totals until that commits, then the new ones. The organization's refresh lock
   * is held on the owner's connection (session-level, the key the patches' transactions take) from before the build to
   * after the swap, so no patch, erasure or other refresh writes its rows meanwhile. A failure anywhere before the
   * swap's commit drops the fresh table: the live rows stay as they were.
   */
  private async rebuildBySwap(
    database: Database,
    organizationId: string,
    started: number,
    now: Date,
    progress?: (fraction: number) => Promise<void>,
  ): Promise<RefreshResult> {
    const owner = await database.ownerConnection('patient-journey-opportunities-swap');
    const swapFor = async (db: Parameters<typeof hasOwnOpportunitiesPartition>[0]): Promise<OpportunitiesPartitionSwap> =>
      new OpportunitiesPartitionSwap(db, opportunityTables(organizationId, !(await hasOwnOpportunitiesPartition(db, organizationId))));
    return inSwapFrame(owner, { keySql: REFRESH_LOCK_KEY, organizationId }, swapFor, async (swap) => {
      const lap = phaseTimer();
      await swap.cleanUp();
      await swap.createFresh();
      // The rows in two halves at once (patient ids up to the middle one, and after it), each one statement in a
      // transaction of its own on its own connection, the second on the first's snapshot (both read the same
      // metrics and records; the rules read once, by the first): the build is a read and classification of every
      // candidate, on one core per statement. Both commit before the seal; a failure of either fails the refresh
      // (the fresh table is dropped).
      const { rules, totals } = await this.tenantDb.transaction(
        organizationId,
        async (db) => {
          await this.repository.rebuildSettings(db);
          const r = await this.repository.organizationRules(db);
          const rules = { ltvThresholdCents: r.ltvThresholdCents, recallDays: r.recallDays ?? DEFAULT_RECALL_DAYS };
          const halves = await inTwoHalves(this.tenantDb, db, async (half, range) => {
            if (half !== db) await this.repository.rebuildSettings(half);
            return this.repository.buildInto(half, swap.tables.fresh, { now, rules, ...range });
          });
          const sums = new Map<string, OpportunityTotal>();
          for (const t of halves.flat()) add(sums, t);
          return { rules, totals: [...sums.values()] };
        },
        { batch: true, repeatableRead: true },
      );
      const buildMs = lap();
      await progress?.(0.5);
      await swap.seal();
      await swap.analyzeFresh();
      const analyzeMs = lap();
      // The indexes on two owner connections (the metrics' rebuild does the same): 4.1-5.9 s on one at a million
      // patients' 529,000 opportunities.
      await swap.buildIndexesAndKeys(() => database.ownerConnection('patient-journey-opportunities-swap'));
      const indexesMs = lap();
      await progress?.(0.9);
      const durationMs = Date.now() - started;
      await withShortLocks(owner, async () => {
        await swap.lockForSwap();
        await swap.replacePartition();
        await owner.query(SAVE_REFRESH_SQL, [organizationId, now, rules.ltvThresholdCents, JSON.stringify(totals), durationMs]);
      });
      const count = totals.reduce((n, t) => n + t.count, 0);
      this.logger.log(
        `Opportunities of organization ${organizationId} built and swapped: ${count} rows; build ${buildMs} ms, analyze ${analyzeMs} ms, ` +
          `indexes ${indexesMs} ms, swap ${lap()} ms`,
      );
      return { organizationId, opportunities: count, ltvThresholdCents: rules.ltvThresholdCents, durationMs };
    });
  }

  /**
   * The rebuild's statements, in the caller's transaction (`db`), under the organization's refresh lock. `small`: a
   * small organization's nightly follow-up in JobService.runTogether's transaction, which has the settings already:
   * the lock and the rules in one statement, the organization's rows read once per table (CLASSIFY_REPLACE_ORGANIZATION_SQL,
   * the same rows as the per-patient lookups), each statement prepared on the connection (run for thousands of
   * clinics a night: parsed once, planned until PostgreSQL settles on a generic plan), and the refresh's row written
   * by the rebuild's statement (replaceAllAndSave). `ltvThresholdCents` (with `small`): the threshold in hand (the
   * nightly recompute's percentile of the LTVs it has just written), so that the lock's statement reads only the
   * recall setting, not every metrics row again.
   */
  private async rebuildOn(
    db: TenantSql,
    started: number,
    now: Date,
    progress?: (fraction: number) => Promise<void>,
    options: { small?: boolean; ltvThresholdCents?: number } = {},
  ): Promise<RefreshResult> {
    const small = options.small === true;
    let rules: { ltvThresholdCents: number; recallDays: number | null };
    if (small && options.ltvThresholdCents !== undefined)
      rules = { ltvThresholdCents: options.ltvThresholdCents, recallDays: await this.repository.lockWithRecall(db) };
    else if (small) rules = await this.repository.lockWithRules(db);
    else {
      await this.repository.lock(db);
      await this.repository.rebuildSettings(db);
      rules = await this.repository.organizationRules(db);
    }
    const org = { ltvThresholdCents: rules.ltvThresholdCents, recallDays: rules.recallDays ?? DEFAULT_RECALL_DAYS };
    // One statement for the whole organization: the facts query as the floor reads it, classified and written
    // (a job cancelled meanwhile stops at the progress report after it, and the transaction rolls back).
    // A small organization's (no progress to report: a follow-up in the caller's transaction): the refresh's row
    // written by the same statement (one round trip fewer).
    if (small && !progress) {
      const totals = await this.repository.replaceAllAndSave(db, { now, rules: org, msBefore: Date.now() - started });
      const count = totals.reduce((n, t) => n + t.count, 0);
      return { organizationId: db.organizationId, opportunities: count, ltvThresholdCents: org.ltvThresholdCents, durationMs: Date.now() - started };
    }
    const totals = await this.repository.replaceAll(db, { now, rules: org, small });
    const count = totals.reduce((n, t) => n + t.count, 0);
    await progress?.(1);
    const durationMs = Date.now() - started;
    await this.repository.saveRefresh(db, { refreshedAt: now, ltvThresholdCents: org.ltvThresholdCents, totals }, durationMs, { prepare: small });
    return { organizationId: db.organizationId, opportunities: count, ltvThresholdCents: org.ltvThresholdCents, durationMs };
  }
}

/** Milliseconds since the last call (the first: since its creation). */
function phaseTimer(): () => number {
  let last = Date.now();
  return () => {
    const now = Date.now();
    const ms = now - last;
    last = now;
    return ms;
  };
}

/** Adds a type and priority's count and value to the totals (a new one goes last). */
function add(totals: Map<string, OpportunityTotal>, t: OpportunityTotal): void {
  const key = `${t.type}:${t.priority}`;
  const sum = totals.get(key) ?? { type: t.type, priority: t.priority, count: 0, valueCents: 0 };
  sum.count += t.count;
  sum.valueCents += t.valueCents;
  totals.set(key, sum);
}
