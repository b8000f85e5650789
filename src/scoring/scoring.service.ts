import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { Clock } from 'src/common/clock/clock';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { analyzeIfNeverAnalyzed, vacuumScoringTables } from 'src/scoring/recompute/maintenance';
import { organizationContext, type OrganizationContext } from 'src/scoring/recompute/organization-context';
import {
  type ProgressCallback,
  RECOMPUTE_APPLICATION_NAME,
  RECOMPUTE_SESSION,
  recomputeOrganization,
  type RecomputeOptions,
  type RecomputeResult,
} from 'src/scoring/recompute/organization-recompute';
import { ReusedConnections, reusedConnectionsIdle } from 'src/scoring/recompute/recompute-connections';
import { recomputeSelection } from 'src/scoring/recompute/patient-recompute';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';

/** Patients per transaction of `recomputePatients` (an ingestion batch may touch many). */
const BATCH = 1000;
/** How long an organization's settings and latest model fit are reused by `recomputePatients`. */
const CONTEXT_TTL_MS = 5 * 60_000;

/**
 * Keeps `patient_metrics` current. `recomputePatients` is the request path (ingestion, after a batch), in
 * TenantDb transactions. `recomputeOrganization` rescoring a whole organization runs on connections of its own,
 * bound to the organization, as the runtime role (the same code as `npm run recompute`).
 */
@Injectable()
export class ScoringService implements OnModuleDestroy {
  private readonly logger = new Logger(ScoringService.name);
  private readonly contexts = new Map<string, { context: OrganizationContext; loadedAt: number }>();
  private readonly subscription: Subscription;
  /** The organization-wide runs' connections, reused from one run to the next (a worker's night of many clinics). */
  private readonly connections: ReusedConnections;

  constructor(
    private readonly database: Database,
    private readonly tenantDb: TenantDb,
    private readonly crossTenant: CrossTenantDb,
    private readonly repos: ScoringRepositories,
    @Inject(Clock) private readonly clock: Clock,
    private readonly events: ScoringEvents,
    // Only the jobs' concurrency is read (the benches that build this service pass { jobs: { concurrency: 1 } }).
    @Inject(SETTINGS) settings: { jobs: Pick<Settings['jobs'], 'concurrency'> },
  ) {
    // Two idle connections for each run at once (a run holds two batch connections): with fewer, a worker above
    // concurrency 2 closed a connection after most runs and opened a new backend for the next, each filling its caches
    // again (docs/scaling.md, "The worker's connections at concurrency 3").
    this.connections = new ReusedConnections(database, RECOMPUTE_APPLICATION_NAME, RECOMPUTE_SESSION, {
      maxIdle: reusedConnectionsIdle(settings.jobs.concurrency),
    });
    // An organization-wide recompute anywhere refits the models: this process's context of the organization goes.
    this.subscription = events.recomputed$.subscribe(({ organizationId, patientIds }) => {
      if (!patientIds) this.contexts.delete(organizationId);
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.subscription.unsubscribe();
    await this.connections.close();
  }

  /**
   * Recomputes these patients of the organization now (ids of other organizations are ignored by the query). More
   * than a batch of them (a bulk import's aftermath) first gives statistics to source tables that have none: in a new
   * database, right after the first large import, the planner sizes `appointments` as empty and the fit's per-patient
   * visit read walks the organization's whole completed-visits index once per patient (5,000 imported patients:
   * past the statement timeout; with statistics 63 ms), as the organization-wide recompute already guards against.
   */
  async recomputePatients(organizationId: string, patientIds: string[]): Promise<void> {
    const ids = [...new Set(patientIds)];
    if (ids.length === 0) return;
    if (ids.length > BATCH) await this.analyzeFreshSources();
    const now = this.clock.now();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      await this.tenantDb.transaction(organizationId, async (db) => {
        const context = await this.context(organizationId, () => organizationContext(this.repos, db, now));
        await recomputeSelection(this.repos, db, context, { kind: 'ids', ids: batch }, now);
      });
    }
    this.events.patientsRecomputed(organizationId, ids);
  }

  /** ANALYZE of the source tables never analyzed (a fresh bulk load), on an owner connection of its own. */
  private async analyzeFreshSources(): Promise<void> {
    const owner = await this.database.ownerConnection('patient-journey-analyze');
    try {
      await analyzeIfNeverAnalyzed(owner);
    } finally {
      await owner.end();
    }
  }

  /**
   * Refits the organization's models (`refit: 'when-due'`: a small organization's only when due) and recomputes all
   * its patients, on reused connections; then announces it, unless `announce` is false (the caller then calls
   * `announceRecomputed` once its follow-ups are done).
   */
  async recomputeOrganization(
    organizationId: string,
    onProgress?: ProgressCallback,
    options: Pick<RecomputeOptions, 'vacuum' | 'refit'> & { announce?: boolean } = {},
  ): Promise<RecomputeResult> {
    const result = await recomputeOrganization(this.database, this.repos, organizationId, this.clock.now(), {
      onProgress,
      vacuum: options.vacuum,
      refit: options.refit,
      connections: this.connections,
      // Its connections serve one organization after another: a small organization's statements are prepared on them.
      prepare: true,
    });
    this.contexts.delete(organizationId);
    if (options.announce !== false) await this.announceRecomputed(organizationId);
    return result;
  }

  /** Tells every process that the organization was recomputed (caches dropped; follow-ups enqueued unless done). */
  async announceRecomputed(organizationId: string, options: { recomputeId?: string; followUpsDone?: boolean } = {}): Promise<void> {
    this.contexts.delete(organizationId);
    await this.events.organizationRecomputed(organizationId, options);
  }

  /** Every organization, one after the other (the nightly job). Failures are logged and do not stop the others. */
  async recomputeAll(): Promise<RecomputeResult[]> {
    const ids = await this.repos.organizations.ids(this.crossTenant);
    const results: RecomputeResult[] = [];
    for (const id of ids) {
      try {
        const result = await this.recomputeOrganization(id, undefined, { vacuum: false });
        this.logger.log(`Recomputed organization ${id}: ${result.patients} patients in ${result.totalMs} ms`);
        results.push(result);
      } catch (err) {
        this.logger.error(`Recompute of organization ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const owner = await this.database.ownerConnection('patient-journey-nightly-vacuum');
    try {
      await vacuumScoringTables(owner);
    } catch (err) {
      this.logger.warn(`VACUUM of the scoring tables failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await owner.end();
    }
    return results;
  }

  private async context(organizationId: string, load: () => Promise<OrganizationContext>): Promise<OrganizationContext> {
    const cached = this.contexts.get(organizationId);
    if (cached && Date.now() - cached.loadedAt < CONTEXT_TTL_MS) return cached.context;
    const context = await load();
    this.contexts.set(organizationId, { context, loadedAt: Date.now() });
    return context;
  }
}
