import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/**
 * The engagement rollup: per organization-local visit day and the day of the same patient's previous visit
 * (`-infinity` for a first visit), how many patients made that step and the sum of their engagement scores. Any
 * range of days counts its distinct patients as the rows inside it whose previous visit is before it, so windows
 * and buckets of any size are answered without touching the visits. See docs/queries/engagement-overview.md.
 */
@Entity({ name: 'engagement_visit_gaps' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_engagement_visit_gaps_organization_id',
  onDelete: 'CASCADE',
})
export class EngagementVisitGap {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_engagement_visit_gaps' })
  organizationId: string;

  @PrimaryColumn({ name: 'day', type: 'date', primaryKeyConstraintName: 'pk_engagement_visit_gaps' })
  day: string;

  /** Day of the previous visit, `-infinity` when `day` is the patient's first. */
  @PrimaryColumn({ name: 'prev', type: 'date', primaryKeyConstraintName: 'pk_engagement_visit_gaps' })
  prev: string;

  @Column({ name: 'patients', type: 'integer' })
  patients: number;

  /** Sum of the engagement scores of those patients that have one (`scored` of them). */
  @Column({ name: 'score_sum', type: 'double precision' })
  scoreSum: number;

  @Column({ name: 'scored', type: 'integer' })
  scored: number;
}
