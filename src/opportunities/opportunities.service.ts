import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { suggestedAction } from 'src/opportunities/domain/opportunity-rules';
import { OpportunitiesQuery } from 'src/opportunities/dto/opportunities.dto';
import { OpportunitiesResponse } from 'src/opportunities/dto/opportunities.response';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { OpportunitiesRepository, OpportunityRow } from 'src/opportunities/opportunities.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { JobType } from 'src/jobs/job.types';
import { SnapshotRebuilds } from 'src/jobs/snapshot-rebuilds';
import type { Freshness } from 'src/common/cache/freshness';

export const DEFAULT_OPPORTUNITIES_LIMIT = 50;

const units = (cents: number): number => Math.round(cents) / 100;

@Injectable()
export class OpportunitiesService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: OpportunitiesRepository,
    private readonly rebuilds: SnapshotRebuilds,
  ) {}

  /**
   * A page of the organization's snapshot. Never rebuilt here (SnapshotRebuilds): past SNAPSHOT_MAX_AGE_HOURS it is
   * answered marked stale and its refresh enqueued; an organization without one waits for its first build, bounded,
   * else gets 503 `not-ready` with Retry-After. `freshness`: the request's record (`@RequestFreshness()`).
   */
  async list(auth: AuthContext, q: OpportunitiesQuery, freshness?: Freshness): Promise<OpportunitiesResponse> {
    const orgId = auth.organizationId;
    const filter = { type: q.type, priority: q.priority, limit: q.limit ?? DEFAULT_OPPORTUNITIES_LIMIT, offset: q.offset ?? 0 };
    let found = await this.tenantDb.statements(orgId, (db) => this.repository.page(db, filter));
    if (!found) {
      await this.rebuilds.awaitFirstBuild(JobType.OpportunitiesRefresh, orgId, async () =>
        (await this.tenantDb.statements(orgId, (db) => this.repository.refreshedAt(db))) !== null,
      );
      found = await this.tenantDb.statements(orgId, (db) => this.repository.page(db, filter));
      if (!found) throw new Error('opportunity snapshot missing right after its rebuild');
    }
    const { state, rows } = found;
    this.rebuilds.checkAge(JobType.OpportunitiesRefresh, orgId, new Date(state.refreshedAt), freshness);
    return toOpportunitiesResponse(rows, state.totals, q);
  }
}

/** The list response from a page of rows and the snapshot's totals (pure: shared with the benchmark's floor server). */
export function toOpportunitiesResponse(
  rows: OpportunityRow[],
  totals: OpportunityTotal[],
  q: Pick<OpportunitiesQuery, 'type' | 'priority'>,
): OpportunitiesResponse {
  const matching = totals.filter((t) => (!q.type || t.type === q.type) && (!q.priority || t.priority === q.priority));
  return {
    opportunities: rows.map((r) => ({
      patient_id: r.patient_id,
      patient_name: r.patient_name,
      opportunity_type: r.opportunity_type,
      priority: r.priority,
      last_contact: r.last_contact_at === null ? null : new Date(r.last_contact_at).toISOString(),
      suggested_action: suggestedAction(
        {
          type: r.opportunity_type,
          outreach: r.outreach,
          channel: r.channel,
          patientStatus: r.patient_status,
        },
        r.preferred_channel ?? r.channel,
      ),
      estimated_value: units(r.estimated_value_cents),
      success_probability: Math.round(r.success_probability * 1000) / 1000,
    })),
    total_opportunities: matching.reduce((n, t) => n + t.count, 0),
    potential_revenue: units(matching.reduce((n, t) => n + t.valueCents, 0)),
  };
}
