import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { TtlCache } from 'src/auth/ttl-cache';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
import { Clock } from 'src/common/clock/clock';
import { ProblemException } from 'src/common/problem/problem';
import { localDate, nextDay, resolveWindow } from './domain/engagement-window';
import { satisfactionMetrics } from './domain/satisfaction';
import { EngagementQuery } from './dto/engagement.dto';
import { EngagementOverviewResponse } from './dto/engagement.response';
import { EngagementRepository } from './engagement.repository';

function validTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    return 'UTC';
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

@Injectable()
export class EngagementService {
  /** Organization time zones, kept a minute in process so that a cached overview costs no database round trip. */
  private readonly timeZones = new TtlCache<string>(60, 10_000);

  constructor(
    private readonly repository: EngagementRepository,
    private readonly clock: Clock,
    /** Aggregates only (no patient ids, no PHI: entries may live in Redis); TTL `CACHE_TTL_SECONDS`. */
    private readonly cache: AggregateCache,
  ) {}

  async overview(auth: AuthContext, q: EngagementQuery): Promise<EngagementOverviewResponse> {
    const orgId = auth.organizationId;
    const now = this.clock.now();
    const timeZone = await this.timeZones.get(orgId, async () => validTimeZone((await this.repository.timeZone(orgId)) ?? 'UTC'));
    const today = localDate(now, timeZone);
    const window = resolveWindow(q, today);
    if ('field' in window) throw ProblemException.invalidField('query', window.field, window.message);
    const key = `engagement-overview:v1:${orgId}:${timeZone}:${window.from}:${window.to}:${window.granularity}:${today}`;
    return this.cache.getOrLoad(key, async (): Promise<EngagementOverviewResponse> => {
      const facts = await this.repository.facts(orgId, {
        timeZone,
        granularity: window.granularity,
        from: window.from,
        toExclusive: nextDay(window.to),
        monthStart: `${today.slice(0, 7)}-01`,
        now,
      });
      const byBucket = new Map(facts.buckets.map((b) => [b.bucket, b]));
      return {
        engagement_overview: {
          total_patients: facts.totalPatients,
          new_patients_this_month: facts.newPatientsThisMonth,
          returning_patients: facts.returningPatients,
          engagement_trends: window.buckets.map((date) => {
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
    });
  }
}
