import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/** Totals of one opportunity type and priority, kept so that the list answers its totals without a scan. */
export interface OpportunityTotal {
  type: string;
  priority: string;
  count: number;
  valueCents: number;
}

/**
 * One row per organization: when its opportunities were last rebuilt, the top-quartile LTV threshold used for
 * `high_value_risk`, and the totals per (type, priority).
 */
@Entity({ name: 'opportunity_refreshes' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_opportunity_refreshes_organization_id',
  onDelete: 'CASCADE',
})
export class OpportunityRefresh {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_opportunity_refreshes' })
  organizationId: string;

  @Column({ name: 'refreshed_at', type: 'timestamptz' })
  refreshedAt: Date;

  /** 75th percentile of the organization's `patient_metrics.ltv_cents` at refresh time. */
  @Column({ name: 'ltv_threshold_cents', type: 'integer' })
  ltvThresholdCents: number;

  @Column({ name: 'totals', type: 'jsonb', default: [] })
  totals: OpportunityTotal[];

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;
}
