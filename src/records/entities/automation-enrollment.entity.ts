import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { EnrollmentStatus } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('automation_enrollments')
@Index('idx_automation_enrollments_organization_id_patient_id_status', ['organizationId', 'patientId', 'status'])
@Check('ck_automation_enrollments_total_steps', 'total_steps > 0')
@Check('ck_automation_enrollments_status', inCheck('status', EnrollmentStatus))
export class AutomationEnrollment extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'sequence', type: 'varchar', length: 100 })
  sequence: string;

  @Column({ name: 'step', type: 'varchar', length: 100 })
  step: string;

  @Column({ name: 'step_index', type: 'integer' })
  stepIndex: number;

  @Column({ name: 'total_steps', type: 'integer' })
  totalSteps: number;

  @Column({ name: 'next_action', type: 'varchar', length: 200, nullable: true })
  nextAction: string | null;

  @Column({ name: 'next_action_at', type: 'timestamptz', nullable: true })
  nextActionAt: Date | null;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: EnrollmentStatus;

  @Column({ name: 'enrolled_at', type: 'timestamptz' })
  enrolledAt: Date;
}
