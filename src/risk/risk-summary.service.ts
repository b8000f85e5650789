import { Injectable } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import type { Freshness } from 'src/common/cache/freshness';
import { Clock } from 'src/common/clock/clock';
import type { CountGroup } from 'src/patients/patient-counts.repository';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import type { RiskSummaryResponse } from 'src/risk/dto/risk-summary.response';

/**
 * Risk distribution and trends (spec endpoint 2) from the maintained counts, cached per organization
 * (`PatientCountsService`): no patient-level data, so the cache may be shared (Redis).
 */
@Injectable()
export class RiskSummaryService {
  constructor(
    private readonly counts: PatientCountsService,
    private readonly clock: Clock,
  ) {}

  /** `freshness`: the request's record (`@RequestFreshness()`), marked when the counts are served stale. */
  async get(auth: AuthContext, freshness?: Freshness): Promise<RiskSummaryResponse> {
    const counts = await this.counts.counts(auth.organizationId, undefined, freshness);
    return riskSummary(counts.groups, counts.lastComputedAt ?? this.clock.now().toISOString());
  }
}

export function riskSummary(groups: readonly CountGroup[], lastCalculated: string): RiskSummaryResponse {
  const out: RiskSummaryResponse = {
    risk_distribution: { low_risk: 0, medium_risk: 0, high_risk: 0 },
    total_patients: 0,
    risk_trends: { improving: 0, stable: 0, declining: 0 },
    last_calculated: lastCalculated,
  };
  for (const g of groups) {
    out.total_patients += g.patients;
    out.risk_distribution[`${g.riskLevel}_risk`] += g.patients;
    out.risk_trends[g.riskTrend] += g.patients;
  }
  return out;
}
