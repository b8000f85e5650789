import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { suggestedAction } from 'src/opportunities/domain/opportunity-rules';
import { OpportunitiesQuery } from 'src/opportunities/dto/opportunities.dto';
import { OpportunitiesResponse } from 'src/opportunities/dto/opportunities.response';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { OpportunitiesRepository, OpportunityRow } from 'src/opportunities/opportunities.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';

export const DEFAULT_OPPORTUNITIES_LIMIT = 50;

const units = (cents: number): number => Math.round(cents) / 100;

@Injectable()
export class OpportunitiesService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: OpportunitiesRepository,
    private readonly refresher: OpportunitiesRefresher,
    private readonly clock: Clock,
  ) {}

  async list(auth: AuthContext, q: OpportunitiesQuery): Promise<OpportunitiesResponse> {
    const orgId = auth.organizationId;
    const filter = { type: q.type, priority: q.priority, limit: q.limit ?? DEFAULT_OPPORTUNITIES_LIMIT, offset: q.offset ?? 0 };
    let found = await this.tenantDb.statements(orgId, (db) => this.repository.page(db, filter));
    if (!found) {
      // First request of the organization: build its snapshot now.
      await this.refresher.refresh(orgId);
      found = await this.tenantDb.statements(orgId, (db) => this.repository.page(db, filter));
      if (!found) throw new Error('opportunity snapshot missing right after its rebuild');
    }
    const { state, rows } = found;
    if (this.clock.now().getTime() - new Date(state.refreshedAt).getTime() > OpportunitiesRefresher.MAX_AGE_MS) {
      this.refresher.refreshInBackground(orgId);
    }
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
