import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Clock } from 'src/common/clock/clock';
import { TenantDb } from 'src/common/database/tenant-db';
import {
  organizationContext,
  OrganizationContext,
  ProgressCallback,
  recomputeOrganizationWithUrl,
  RecomputeResult,
  recomputeSelection,
  vacuumScoringTables,
} from 'src/scoring/recompute';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringRepository } from 'src/scoring/scoring.repository';
import { entityManagerRunner, pgRunner } from 'src/scoring/sql-runner';

/** Patients per transaction of `recomputePatients` (an ingestion batch may touch many). */
const BATCH = 1000;
/** How long an organization's settings and latest model fit are reused by `recomputePatients`. */
const CONTEXT_TTL_MS = 5 * 60_000;

/**
 * Keeps `patient_metrics` current. `recomputePatients` is the request path (ingestion, after a batch): it runs
 * as the runtime role inside `TenantDb.run`. `recomputeOrganization` rescoring a whole organization uses two
 * dedicated connections as the connecting user (the same code as `npm run recompute`).
 */
@Injectable()
export class ScoringService {
  private readonly logger = new Logger(ScoringService.name);
  private readonly contexts = new Map<string, { context: OrganizationContext; loadedAt: number }>();

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly dataSource: DataSource,
    @Inject(Clock) private readonly clock: Clock,
    private readonly events: ScoringEvents,
  ) {}

  /** Recomputes these patients of the organization now (ids of other organizations are ignored by the query). */
  async recomputePatients(organizationId: string, patientIds: string[]): Promise<void> {
    const ids = [...new Set(patientIds)];
    if (ids.length === 0) return;
    const now = this.clock.now();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      await this.tenantDb.run(organizationId, async (manager) => {
        const db = entityManagerRunner(manager);
        const context = await this.context(organizationId, new ScoringRepository(db), now);
        await recomputeSelection(db, context, { kind: 'ids', ids: batch }, now);
      });
    }
    this.events.recomputed$.next({ organizationId, patientIds: ids });
  }

  /** Refits the organization's models and recomputes all its patients. */
  async recomputeOrganization(
    organizationId: string,
    onProgress?: ProgressCallback,
    options: { vacuum?: boolean } = {},
  ): Promise<RecomputeResult> {
    const result = await recomputeOrganizationWithUrl(this.ownerUrl(), organizationId, this.clock.now(), {
      onProgress,
      vacuum: options.vacuum,
    });
    this.contexts.delete(organizationId);
    this.events.recomputed$.next({ organizationId });
    return result;
  }

  /** Every organization, one after the other (the nightly job). Failures are logged and do not stop the others. */
  async recomputeAll(): Promise<RecomputeResult[]> {
    const ids = await this.allOrganizationIds();
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
    const client = new Client({ connectionString: this.ownerUrl() });
    await client.connect();
    try {
      await vacuumScoringTables(client);
    } catch (err) {
      this.logger.warn(`VACUUM of the scoring tables failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await client.end();
    }
    return results;
  }

  private async allOrganizationIds(): Promise<string[]> {
    const client = new Client({ connectionString: this.ownerUrl() });
    await client.connect();
    try {
      return await new ScoringRepository(pgRunner(client)).organizationIds();
    } finally {
      await client.end();
    }
  }

  private async context(organizationId: string, repo: ScoringRepository, now: Date): Promise<OrganizationContext> {
    const cached = this.contexts.get(organizationId);
    if (cached && Date.now() - cached.loadedAt < CONTEXT_TTL_MS) return cached.context;
    const context = await organizationContext(repo, organizationId, now);
    this.contexts.set(organizationId, { context, loadedAt: Date.now() });
    return context;
  }

  /** The URL the app's pool connects with; without the runtime-role switch, it is the owner. */
  private ownerUrl(): string {
    const url = (this.dataSource.options as { url?: string }).url;
    if (!url) throw new Error('The data source has no URL');
    return url;
  }
}
