import { Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('journey_events')
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
