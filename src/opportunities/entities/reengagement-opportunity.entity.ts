import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { inCheck } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Channel } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { OpportunityPriority, OpportunityType, OutreachKind } from 'src/opportunities/opportunities.enums';

/**
 * The organization's current reengagement opportunities, one row per patient at most, rebuilt by
 * `OpportunitiesRefresher` from `patient_metrics` (see docs/journey.md). The list endpoint reads the first page
 * straight from the `expected_return_cents` indexes, best first.
 *
 * Partitioned by organization (LIST on organization_id, migration 1795568400000; partitions are not entities), so the
 * primary key includes organization_id: a partition of its own for each organization whose refresh builds and swaps
 * its rows (from REBUILD_MIN_PATIENTS live patients), the DEFAULT partition for all the others.
 */
@Entity({ name: 'reengagement_opportunities' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_reengagement_opportunities_organization_id',
  onDelete: 'CASCADE',
})
@Index('idx_reengagement_opportunities_expected_return', ['organizationId', 'expectedReturnCents', 'patientId'])
@Index('idx_reengagement_opportunities_type_expected_return', ['organizationId', 'opportunityType', 'expectedReturnCents', 'patientId'])
@Index('idx_reengagement_opportunities_priority_expected_return', ['organizationId', 'priority', 'expectedReturnCents', 'patientId'])
@Check('ck_reengagement_opportunities_type', inCheck('opportunity_type', OpportunityType))
@Check('ck_reengagement_opportunities_priority', inCheck('priority', OpportunityPriority))
@Check('ck_reengagement_opportunities_outreach', inCheck('outreach', OutreachKind))
@Check('ck_reengagement_opportunities_channel', inCheck('channel', Channel))
export class ReengagementOpportunity {
  /** The columns of OrgOwnedEntity, declared here: organization_id is part of the primary key. */
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_reengagement_opportunities' })
  organizationId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_reengagement_opportunities' })
  patientId: string;

  @OneToOne(() => Patient, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'patient_id', foreignKeyConstraintName: 'fk_reengagement_opportunities_patient_id' })
  patient?: Patient;

  @Column({ name: 'opportunity_type', type: 'varchar', length: 32 })
  opportunityType: OpportunityType;

  @Column({ name: 'priority', type: 'varchar', length: 8 })
  priority: OpportunityPriority;

  @Column({ name: 'outreach', type: 'varchar', length: 16 })
  outreach: OutreachKind;

  @Column({ name: 'channel', type: 'varchar', length: 16 })
  channel: Channel;

  /** The patient's status when found (`dormant`, `at_risk`, `active`): words the suggested action. */
  @Column({ name: 'patient_status', type: 'varchar', length: 16 })
  patientStatus: string;

  /** Expected value of the patient's return over the next 12 months. */
  @Column({ name: 'estimated_value_cents', type: 'integer' })
  estimatedValueCents: number;

  @Column({ name: 'success_probability', type: 'real' })
  successProbability: number;

  /** `estimated_value_cents × success_probability`: the sort key. */
  @Column({ name: 'expected_return_cents', type: 'double precision' })
  expectedReturnCents: number;

  @Column({ name: 'last_contact_at', type: 'timestamptz', nullable: true })
  lastContactAt: Date | null;

  /** When the patient's next visit was expected (null when they never visited). */
  @Column({ name: 'expected_visit_at', type: 'timestamptz', nullable: true })
  expectedVisitAt: Date | null;

  @Column({ name: 'computed_at', type: 'timestamptz' })
  computedAt: Date;
}
