import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Channel, CommunicationDirection, CommunicationKind } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('communications')
@Index('idx_communications_organization_id_patient_id_occurred_at', ['organizationId', 'patientId', 'occurredAt'])
@Check('ck_communications_channel', inCheck('channel', Channel))
@Check('ck_communications_kind', inCheck('kind', CommunicationKind))
@Check('ck_communications_direction', inCheck('direction', CommunicationDirection))
export class Communication extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'channel', type: 'varchar', length: 16 })
  channel: Channel;

  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind: CommunicationKind;

  @Column({ name: 'direction', type: 'varchar', length: 16 })
  direction: CommunicationDirection;

  @Column({ name: 'responded_at', type: 'timestamptz', nullable: true })
  respondedAt: Date | null;

  @Column({ name: 'outcome', type: 'varchar', length: 100, nullable: true })
  outcome: string | null;

  /** Encrypted (`v1:<base64>`). */
  @Column({ name: 'notes_enc', type: 'text', nullable: true })
  notes: string | null;
}
