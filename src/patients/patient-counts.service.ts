import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
import type { Freshness } from 'src/common/cache/freshness';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import {
  CountGroup,
  CountRow,
  countsFromRows,
  needsCompaction,
  OrganizationCounts,
  organizationCountsStatement,
  PatientCountsRepository,
} from 'src/patients/patient-counts.repository';
import type { LeadingStatement } from 'src/database/tenant/tenant-db';
import { tenantId } from 'src/database/tenant/tenant-sql';
import { PatientStatus } from 'src/scoring/domain/patient-status';
import { ScoringEvents } from 'src/scoring/scoring-events';

/** The counts of an organization as cached: `version` changes whenever they are reloaded. */
export interface CachedCounts extends OrganizationCounts {
  version: string;
}

export interface StatusSummary {
  total: number;
  active: number;
  dormant: number;
  atRisk: number;
}

/**
 * Patient counts for lists and aggregates, never a COUNT over the organization per request:
 * - whole-organization and per-status counts come from the trigger-maintained `patient_metric_counts`
 *   (a sum over a few dozen rows), cached per organization (`CACHE_TTL_SECONDS` as a backstop);
 * - a name-prefix search count is an index range count, cached under the organization's counts version.
 *
 * `invalidate(organizationId)` drops an organization's entries. The scoring engine's `recomputed$` event calls it
 * (ingestion triggers a recompute of the patients it touched); any other writer of `patients`/`patient_metrics`
 * should call it after committing. With the in-memory store an invalidation reaches only this process; other
 * instances catch up within the TTL (use REDIS_URL to share the cache).
 */
@Injectable()
export class PatientCountsService implements OnModuleDestroy {
  private readonly subscription?: Subscription;

  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly repository: PatientCountsRepository,
    private readonly cache: AggregateCache,
    @Inject(SETTINGS) private readonly settings: Settings,
    @Optional() events?: ScoringEvents,
  ) {
    this.subscription = events?.recomputed$.subscribe(({ organizationId }) => void this.invalidate(organizationId));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /**
   * The organization's counts, cached. `alongside`: called when this call reads them from the database (not when
   * they are cached or another call is reading them) with their statement; the caller may send it in the message of
   * its own first statement (TenantDb.statements' `leading`: the list's page, so that a clinic's first request reads
   * both in one round trip) and returns that work's promise, or null to leave the counts to their own statement.
   * `freshness`: the request's record (marked when its counts are served stale).
   */
  counts(
    organizationId: string,
    alongside?: (leading: LeadingStatement) => Promise<unknown> | null,
    freshness?: Freshness,
  ): Promise<CachedCounts> {
    return this.cache.getOrLoad(
      countsKey(organizationId),
      async () => {
        const counts = alongside
          ? await this.loadAlongside(organizationId, alongside)
          : await this.tenantDb.statements(organizationId, (db) => this.repository.organizationCounts(db));
        return { ...counts, version: randomUUID() };
      },
      undefined,
      // The request does not wait for the counts' Redis write (a failed write is logged; the next miss loads again).
      { freshness, writeBehind: true },
    );
  }

  private async loadAlongside(organizationId: string, alongside: (leading: LeadingStatement) => Promise<unknown> | null): Promise<OrganizationCounts> {
    const statement = organizationCountsStatement(tenantId(organizationId));
    let carried: Promise<unknown> | null = null;
    // The rows as soon as the caller's message is answered (not when the rest of its work is done).
    const rows = await new Promise<CountRow[] | undefined>((resolve, reject) => {
      carried = alongside({ ...statement, rows: (r) => resolve(r as unknown as CountRow[]) });
      if (carried === null) resolve(undefined);
      else carried.then(() => resolve(undefined), reject);
    });
    if (rows === undefined) return this.tenantDb.statements(organizationId, (db) => this.repository.organizationCounts(db));
    if (needsCompaction(rows)) await this.tenantDb.statements(organizationId, (db) => this.repository.compact(db));
    return countsFromRows(rows);
  }

  /**
   * Patients matching a list filter: a status (null: all) and an optional lower-cased name prefix. `counts`: the
   * organization's counts when the caller has them already (one cache read fewer; with Redis, one round trip).
   * `freshness`: the request's record.
   */
  async totalMatching(
    organizationId: string,
    status: PatientStatus | null,
    prefix: string | null,
    counts?: CachedCounts,
    freshness?: Freshness,
  ): Promise<number> {
    counts ??= await this.counts(organizationId, undefined, freshness);
    if (prefix === null) return countStatus(counts.groups, status);
    // The prefix is a fragment of a name: only its hash goes into a (possibly shared) cache key.
    const key = `patients:prefix-count:${organizationId}:${counts.version}:${status ?? 'all'}:${createHash('sha256').update(prefix).digest('hex')}`;
    return this.cache.getOrLoad(
      key,
      () => this.tenantDb.statements(organizationId, (db) => this.repository.countNamePrefix(db, status, prefix)),
      Math.min(60, this.settings.cacheTtlSeconds) * 1000,
      { freshness },
    );
  }

  async invalidate(organizationId: string): Promise<void> {
    await this.cache.delete(countsKey(organizationId));
  }
}

const countsKey = (organizationId: string): string => `patients:counts:${organizationId}`;

export function countStatus(groups: readonly CountGroup[], status: PatientStatus | null): number {
  let n = 0;
  for (const g of groups) if (status === null || g.status === status) n += g.patients;
  return n;
}

export function summarize(groups: readonly CountGroup[]): StatusSummary {
  return {
    total: countStatus(groups, null),
    active: countStatus(groups, PatientStatus.Active),
    dormant: countStatus(groups, PatientStatus.Dormant),
    atRisk: countStatus(groups, PatientStatus.AtRisk),
  };
}
