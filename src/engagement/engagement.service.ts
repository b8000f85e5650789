import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { AuthContext } from 'src/auth/auth-context';
import { TtlCache } from 'src/auth/ttl-cache';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
import { Clock } from 'src/common/clock/clock';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import { ProblemException } from 'src/common/problem/problem';
import { localDate, nextDay, validTimeZone } from 'src/common/time/calendar';
import { listBuckets, resolveRange } from 'src/engagement/domain/engagement-window';
import { satisfactionMetrics } from 'src/engagement/domain/satisfaction';
import { EngagementQuery } from 'src/engagement/dto/engagement.dto';
import { EngagementOverviewResponse } from 'src/engagement/dto/engagement.response';
import { EngagementRepository } from 'src/engagement/engagement.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The cache key of an organization's generation: every cached overview of it is keyed under the current one. */
const generationKey = (organizationId: string): string => `engagement-overview:generation:${organizationId}`;

@Injectable()
export class EngagementService implements OnModuleDestroy {
  /** Organization time zones, kept a minute in process so that a cached overview costs no database round trip. */
  private readonly timeZones: TtlCache<string>;
  private readonly subscription: Subscription;

  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly repository: EngagementRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly rollup: EngagementRollupService,
    private readonly clock: Clock,
    /** Aggregates only (no patient ids, no PHI: entries may live in Redis); TTL `CACHE_TTL_SECONDS`. */
    private readonly cache: AggregateCache,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.timeZones = new TtlCache<string>(60, 10_000, undefined, { staleIfErrorSeconds: settings.resilience.staleIfErrorSeconds });
    // The rollup changes after every scoring recompute (ingestion recomputes the patients it touched).
    this.subscription = this.rollup.changed$.subscribe((organizationId) => void this.invalidate(organizationId));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  async overview(auth: AuthContext, q: EngagementQuery): Promise<EngagementOverviewResponse> {
    const orgId = auth.organizationId;
    const now = this.clock.now();
    const timeZone = await this.timeZones.get(orgId, async () =>
      validTimeZone((await this.tenantDb.statements(orgId, (db) => this.organizations.own(db)))?.timezone ?? 'UTC'),
    );
    const today = localDate(now, timeZone);
    const window = resolveRange(q, today);
    if ('field' in window) throw ProblemException.invalidField('query', window.field, window.message);
    // All of an organization's overviews go at once when its generation does (a new random one is drawn).
    const generation = await this.cache.getOrLoad(generationKey(orgId), async () => randomUUID());
    const window_ = `${timeZone}:${window.from}:${window.to}:${window.granularity}:${today}`;
    const key = `engagement-overview:v2:${orgId}:${generation}:${window_}`;
    // The stale answer (database away) is kept without the generation, which every recompute changes.
    const staleKey = `engagement-overview:v2:${orgId}:${window_}`;
    return this.cache.getOrLoad(key, async (): Promise<EngagementOverviewResponse> => {
      const query = { timeZone, granularity: window.granularity, from: window.from, toExclusive: nextDay(window.to), monthStart: `${today.slice(0, 7)}-01`, now };
      const { facts, rollup } = await this.tenantDb.read(orgId, (db) => this.repository.facts(db, query));
      this.rollup.maintain(orgId, rollup);
      const byBucket = new Map(facts.buckets.map((b) => [b.bucket, b]));
      return {
        engagement_overview: {
          total_patients: facts.totalPatients,
          new_patients_this_month: facts.newPatientsThisMonth,
          returning_patients: facts.returningPatients,
          engagement_trends: listBuckets(window.from, window.to, window.granularity).map((date) => {
            const b = byBucket.get(date);
            return {
              date,
              new_patients: b?.new_patients ?? 0,
              returning_patients: b?.returning_patients ?? 0,
              engagement_score: b?.engagement_score == null ? 0 : round1(b.engagement_score),
            };
          }),
          satisfaction_metrics: satisfactionMetrics(facts.surveys),
        },
      };
    }, undefined, { staleKey });
  }

  /** Forgets every cached overview of the organization (in this process and, with Redis, in the others). */
  async invalidate(organizationId: string): Promise<void> {
    await this.cache.delete(generationKey(organizationId));
  }
}
