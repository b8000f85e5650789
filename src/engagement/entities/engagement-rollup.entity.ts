import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/**
 * One row per organization whose engagement rollup exists: the time zone its local days are in, and the cutoff
 * (an organization-local date) before which every completed visit is rolled up; visits from the cutoff's midnight
 * on are read from `appointments` at request time. See docs/queries/engagement-overview.md.
 */
@Entity({ name: 'engagement_rollups' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_engagement_rollups_organization_id',
  onDelete: 'CASCADE',
})
export class EngagementRollup {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_engagement_rollups' })
  organizationId: string;

  @Column({ name: 'timezone', type: 'varchar', length: 64 })
  timezone: string;

  /** `YYYY-MM-DD`: visits on earlier local days are rolled up. */
  @Column({ name: 'cutoff', type: 'date' })
  cutoff: string;

  /** When the rollup was last rebuilt from scratch (patches and cutoff moves do not change it). */
  @Column({ name: 'built_at', type: 'timestamptz' })
  builtAt: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;
}
