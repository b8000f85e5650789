import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/**
 * Per patient with a completed visit before the rollup's cutoff: the organization-local days of those visits
 * (distinct, ascending) and the engagement score they were rolled up with. It is what a patient contributes to
 * `engagement_visit_gaps`, kept so that a patient's contribution can be taken out again when their records or score
 * change. No foreign key to `patients`: a row must outlive its patient until a patch takes its contribution out.
 */
@Entity({ name: 'engagement_patient_days' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_engagement_patient_days_organization_id',
  onDelete: 'CASCADE',
})
@Index('idx_engagement_patient_days_first_day', ['organizationId', 'firstDay'])
export class EngagementPatientDays {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_engagement_patient_days' })
  organizationId: string;

  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_engagement_patient_days' })
  patientId: string;

  /** `days[1]`: the day of the patient's first visit. */
  @Column({ name: 'first_day', type: 'date' })
  firstDay: string;

  @Column({ name: 'days', type: 'date', array: true })
  days: string[];

  /** `patient_metrics.engagement_score` when rolled up; null for a patient without metrics (soft-deleted). */
  @Column({ name: 'engagement_score', type: 'real', nullable: true })
  engagementScore: number | null;
}
