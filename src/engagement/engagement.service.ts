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
import { EngagementRange, listBuckets, resolveRange } from 'src/engagement/domain/engagement-window';
import { satisfactionMetrics } from 'src/engagement/domain/satisfaction';
import { EngagementQuery as EngagementOverviewQuery } from 'src/engagement/dto/engagement.dto';
import { EngagementOverviewResponse } from 'src/engagement/dto/engagement.response';
import { EngagementFacts, EngagementQuery, EngagementRepository, RollupStatus } from 'src/engagement/engagement.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { JobType } from 'src/jobs/job.types';
import { SnapshotRebuilds } from 'src/jobs/snapshot-rebuilds';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import type { Freshness } from 'src/common/cache/freshness';

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The overview's statements run in the analytics class (DATABASE_ANALYTICS_STATEMENT_TIMEOUT_MS). */
const ANALYTICS = { analytics: true } as const;

/** A cached overview with its rollup's last build (ISO), so that a cached answer is marked stale like a fresh one. */
interface CachedOverview {
  overview: EngagementOverviewResponse;
  builtAt: string | null;
}

/** The cache key of an organization's generation: every cached overview of it is keyed under the current one. */
const generationKey = (organizationId: string): string => `engagement-overview:generation:${organizationId}`;

@Injectable()
export class EngagementService implements OnModuleDestroy {
  /** Organization time zones, kept a minute in process so that a cached overview costs no database round trip. */
  private readonly timeZones: TtlCache<string>;
  private readonly subscription: Subscription;
  /** Per organization and window: the overview load running, and the one queued behind it (`coalesced`). */
  private readonly loads = new Map<string, { running: Promise<unknown>; next: Promise<CachedOverview> | null }>();

  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly repository: EngagementRepository,
    private readonly organizations: OrganizationsRepository,
    private readonly rollup: EngagementRollupService,
    private readonly clock: Clock,
    /** Aggregates only (no patient ids, no PHI: entries may live in Redis); TTL `CACHE_TTL_SECONDS`. */
    private readonly cache: AggregateCache,
    private readonly rebuilds: SnapshotRebuilds,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.timeZones = new TtlCache<string>(60, 10_000, undefined, { staleIfErrorSeconds: settings.resilience.staleIfErrorSeconds });
    // The rollup changes after every scoring recompute (ingestion recomputes the patients it touched).
    this.subscription = this.rollup.changed$.subscribe((organizationId) => void this.invalidate(organizationId));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  /**
   * `freshness`: the request's record (`@RequestFreshness()`), marked when the answer is served stale (the database
   * away) or comes from a rollup past SNAPSHOT_MAX_AGE_HOURS.
   */
  async overview(auth: AuthContext, q: EngagementOverviewQuery, freshness?: Freshness): Promise<EngagementOverviewResponse> {
    const orgId = auth.organizationId;
    const now = this.clock.now();
    const timeZone = await this.timeZones.get(orgId, async () =>
      validTimeZone((await this.tenantDb.statements(orgId, (db) => this.organizations.own(db)))?.timezone ?? 'UTC'),
    );
    const today = localDate(now, timeZone);
    const window = resolveRange(q, today);
    if ('field' in window) throw ProblemException.invalidField('query', window.field, window.message);
    // All of an organization's overviews go at once when its generation does (a new random one is drawn).
    const generation = await this.cache.getOrLoad(generationKey(orgId), async () => randomUUID(), undefined, { freshness });
    const window_ = `${timeZone}:${window.from}:${window.to}:${window.granularity}:${today}`;
    // The stale answer (database away) is kept without the generation, which every recompute changes.
    const staleKey = `engagement-overview:v3:${orgId}:${window_}`;
    const query = { timeZone, granularity: window.granularity, from: window.from, toExclusive: nextDay(window.to), monthStart: `${today.slice(0, 7)}-01`, now };
    const cached = await this.cache.getOrLoad(
      `engagement-overview:v3:${orgId}:${generation}:${window_}`,
      () =>
        this.coalesced(`${orgId}:${window_}`, async (): Promise<CachedOverview> => {
          const { facts, rollup } = await this.readFacts(orgId, query);
          this.rollup.maintain(orgId, rollup);
          return { overview: toOverview(facts, window), builtAt: rollup.builtAt === null ? null : new Date(rollup.builtAt).toISOString() };
        }),
      undefined,
      { staleKey, freshness },
    );
    // Cached or not, an answer from a rollup past SNAPSHOT_MAX_AGE_HOURS says so and asks for its rebuild.
    if (cached.builtAt) this.rebuilds.checkAge(JobType.EngagementRebuild, orgId, new Date(cached.builtAt), freshness);
    return cached.overview;
  }

  /**
   * One load of an organization's window at a time in this process, and one waiting behind it, shared by every
   * request that comes meanwhile. Every ingestion changes the organization's generation (so the cache key): under a
   * steady stream of them each request would otherwise start its own statement (hundreds of ms to seconds at a
   * million patients), and they piled up on the pool (the 2026-12-05 soak: 118 timeouts, and every other route
   * starved of connections). The waiting load starts after the running one ends, so its answer is at least as new
   * as every request that shares it.
   */
  private coalesced(slot: string, load: () => Promise<CachedOverview>): Promise<CachedOverview> {
    const current = this.loads.get(slot);
    if (current?.next) return current.next;
    const start = (): Promise<CachedOverview> => {
      const running = load();
      const entry: { running: Promise<unknown>; next: Promise<CachedOverview> | null } = { running, next: null };
      this.loads.set(slot, entry);
      void running
        .catch(() => undefined)
        .finally(() => {
          if (this.loads.get(slot) === entry && !entry.next) this.loads.delete(slot);
        });
      return running;
    };
    if (!current) return start();
    current.next = current.running.catch(() => undefined).then(start);
    return current.next;
  }

  /**
   * The counts from the organization's rollup, never rebuilt here (SnapshotRebuilds): without a usable one (never
   * built, another time zone, a clock set back) its build is enqueued and waited for, bounded, else 503 `not-ready`
   * with Retry-After. The visits (seconds at a million patients) answer only when the rollup moved between two
   * statements, within the read's statement timeout.
   */
  private async readFacts(orgId: string, query: EngagementQuery): Promise<{ facts: EngagementFacts; rollup: RollupStatus }> {
    // The analytics class's statement timeout: one such statement per window at a time in this process (`coalesced`).
    const first = await this.tenantDb.read(orgId, (db) => this.repository.rollupFacts(db, query), ANALYTICS);
    if (first.facts) return { facts: first.facts, rollup: first.rollup };
    if (first.rollup.use !== 'used') {
      await this.rebuilds.awaitFirstBuild(JobType.EngagementRebuild, orgId, async () =>
        (await this.tenantDb.read(orgId, (db) => this.repository.rollupStatus(db, query))).use === 'used',
      );
      const built = await this.tenantDb.read(orgId, (db) => this.repository.rollupFacts(db, query), ANALYTICS);
      if (built.facts) return { facts: built.facts, rollup: built.rollup };
    }
    return this.tenantDb.read(orgId, (db) => this.repository.facts(db, query), ANALYTICS);
  }

  /** Forgets every cached overview of the organization (in this process and, with Redis, in the others). */
  async invalidate(organizationId: string): Promise<void> {
    await this.cache.delete(generationKey(organizationId));
  }
}

/** The answer from the counts of a window (pure). */
function toOverview(facts: EngagementFacts, window: EngagementRange): EngagementOverviewResponse {
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
}
