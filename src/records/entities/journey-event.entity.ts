import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { SourcedEntity } from 'src/common/database/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from './patient.entity';

@Entity({ name: 'journey_events' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_journey_events_organization_id',
  onDelete: 'CASCADE',
})
// Composite: the patient must belong to the same organization, and a patient's delete cascades through the
// (organization_id, patient_id, ...) index instead of scanning the table.
@ForeignKey(() => Patient, ['organizationId', 'patientId'], ['organizationId', 'id'], {
  name: 'fk_journey_events_patient_id',
  onDelete: 'CASCADE',
})
@Unique('uq_journey_events_source_external_id', ['organizationId', 'source', 'externalId'])
@Index('idx_journey_events_organization_id_patient_id_occurred_at', ['organizationId', 'patientId', 'occurredAt'])
export class JourneyEvent extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'stage', type: 'varchar', length: 64 })
  stage: string;

  @Column({ name: 'outcome', type: 'varchar', length: 200, nullable: true })
  outcome: string | null;

  @Column({ name: 'details', type: 'jsonb', nullable: true })
  details: Record<string, unknown> | null;
}
