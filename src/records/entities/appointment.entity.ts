import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { AppointmentStatus } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('appointments')
@Index('idx_appointments_organization_id_patient_id_starts_at', ['organizationId', 'patientId', 'startsAt'])
/** Visits by time (engagement overview windows); index-only with the patient id. */
@Index('idx_appointments_completed_starts_at', ['organizationId', 'startsAt', 'patientId'], { where: "status = 'completed'" })
@Check('ck_appointments_status', inCheck('status', AppointmentStatus))
@Check('ck_appointments_value_cents', 'value_cents >= 0')
export class Appointment extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'starts_at', type: 'timestamptz' })
  startsAt: Date;

  @Column({ name: 'type', type: 'varchar', length: 100 })
  type: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: AppointmentStatus;

  @Column({ name: 'value_cents', type: 'integer', default: 0 })
  valueCents: number;

  /** Encrypted (`v1:<base64>`). */
  @Column({ name: 'notes_enc', type: 'text', nullable: true })
  notes: string | null;
}
