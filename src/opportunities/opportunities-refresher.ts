import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { Clock } from 'src/common/clock/clock';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { classify, DEFAULT_RECALL_DAYS, Opportunity } from 'src/opportunities/domain/opportunity-rules';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';

const BATCH = 5000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface RefreshResult {
  organizationId: string;
  opportunities: number;
  ltvThresholdCents: number;
  durationMs: number;
}

/**
 * Rebuilds an organization's reengagement opportunities from `patient_metrics` and the records, in one
 * transaction. Called by the list endpoint when the organization has none yet or they are older than
 * `MAX_AGE_MS`, by `node scripts/cli.js cli/opportunities-refresh`, and after every scoring recompute
 * (`ScoringEvents.recomputed$`): the recomputed patients at once, or the whole organization as an
 * `opportunities-refresh` job (src/jobs/).
 */
@Injectable()
export class OpportunitiesRefresher implements OnModuleInit, OnModuleDestroy {
  /** How old a snapshot may be before the list endpoint starts a rebuild in the background. */
  static readonly MAX_AGE_MS = 60 * 60 * 1000;
  private readonly logger = new Logger(OpportunitiesRefresher.name);
  private readonly running = new Map<string, Promise<RefreshResult>>();
  private subscription: Subscription | null = null;

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: OpportunitiesRepository,
    private readonly clock: Clock,
    @Optional() private readonly events?: ScoringEvents,
    @Optional() private readonly jobs?: JobService,
  ) {}

  onModuleInit(): void {
    this.jobs?.register({
      type: JobType.OpportunitiesRefresh,
      run: async ({ organizationId }) => ({ ...(await this.refresh(organizationId)) }),
    });
    this.subscription =
      this.events?.recomputed$.subscribe(({ organizationId, patientIds, recomputeId }) => {
        // Patients recomputed here (an ingestion): reclassified in the request's aftermath. A whole organization
        // recomputed anywhere: its refresh is a job, enqueued once whoever hears the announcement first.
        const work = patientIds
          ? this.refreshPatients(organizationId, patientIds)
          : this.jobs
            ? this.jobs.enqueue(JobType.OpportunitiesRefresh, organizationId, {}, { dedupKey: `after-recompute:${recomputeId}` })
            : this.refresh(organizationId);
        work.catch((err: unknown) => this.logger.error(`Opportunity refresh after recompute failed: ${(err as Error).message}`));
      }) ?? null;
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * Reclassifies some patients (after their scores were recomputed) against the organization's current threshold,
   * adjusting the totals. Does nothing before the first full rebuild, which will see them anyway.
   */
  async refreshPatients(organizationId: string, patientIds: readonly string[]): Promise<number> {
    if (patientIds.length === 0) return 0;
    await this.running.get(organizationId)?.catch(() => undefined);
    const now = this.clock.now();
    return this.tenantDb.transaction(organizationId, async (db) => {
      await this.repository.lock(db);
      const state = await this.repository.refreshStateForUpdate(db);
      if (!state) return 0;
      const rules = await this.repository.organizationRules(db);
      const org = { ltvThresholdCents: state.ltvThresholdCents, recallDays: rules.recallDays ?? DEFAULT_RECALL_DAYS };
      const totals = new Map(state.totals.map((t) => [`${t.type}:${t.priority}`, { ...t }]));
      for (const old of await this.repository.remove(db, patientIds)) {
        const t = totals.get(`${old.type}:${old.priority}`);
        if (t) {
          t.count -= 1;
          t.valueCents -= old.valueCents;
        }
      }
      const found = (await this.repository.facts(db, now, NIL_UUID, patientIds.length, patientIds))
        .map((f) => classify(f, org, now))
        .filter((o): o is Opportunity => o !== null);
      await this.repository.insert(db, found, now);
      for (const o of found) add(totals, o);
      await this.repository.saveTotals(
        db,
        [...totals.values()].filter((t) => t.count > 0),
      );
      return found.length;
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

  /** Single-flight per organization within this process (and an advisory lock across processes). */
  refresh(organizationId: string): Promise<RefreshResult> {
    const current = this.running.get(organizationId);
    if (current) return current;
    const run = this.rebuild(organizationId).finally(() => this.running.delete(organizationId));
    this.running.set(organizationId, run);
    return run;
  }

  /** Starts a rebuild without waiting for it; failures are logged. */
  refreshInBackground(organizationId: string): void {
    this.refresh(organizationId).catch((err: unknown) => this.logger.error(`Opportunity refresh failed: ${(err as Error).message}`));
  }

  private async rebuild(organizationId: string): Promise<RefreshResult> {
    const started = Date.now();
    const now = this.clock.now();
    return this.tenantDb.transaction(organizationId, async (db) => {
      await this.repository.lock(db);
      const rules = await this.repository.organizationRules(db);
      const org = { ltvThresholdCents: rules.ltvThresholdCents, recallDays: rules.recallDays ?? DEFAULT_RECALL_DAYS };
      await this.repository.clear(db);
      const totals = new Map<string, OpportunityTotal>();
      let after = NIL_UUID;
      let count = 0;
      for (;;) {
        const facts = await this.repository.facts(db, now, after, BATCH);
        if (facts.length === 0) break;
        after = facts[facts.length - 1].patientId;
        const found = facts.map((f) => classify(f, org, now)).filter((o): o is Opportunity => o !== null);
        await this.repository.insert(db, found, now);
        for (const o of found) add(totals, o);
        count += found.length;
        if (facts.length < BATCH) break;
      }
      const durationMs = Date.now() - started;
      await this.repository.saveRefresh(
        db,
        { refreshedAt: now, ltvThresholdCents: org.ltvThresholdCents, totals: [...totals.values()] },
        durationMs,
      );
      return { organizationId, opportunities: count, ltvThresholdCents: org.ltvThresholdCents, durationMs };
    }, { batch: true });
  }
}

function add(totals: Map<string, OpportunityTotal>, o: Opportunity): void {
  const key = `${o.type}:${o.priority}`;
  const t = totals.get(key) ?? { type: o.type, priority: o.priority, count: 0, valueCents: 0 };
  t.count += 1;
  t.valueCents += o.estimatedValueCents;
  totals.set(key, t);
}
