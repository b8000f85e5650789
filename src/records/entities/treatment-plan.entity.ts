import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { TreatmentPlanStatus } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('treatment_plans')
@Index('idx_treatment_plans_organization_id_patient_id', ['organizationId', 'patientId'])
@Check('ck_treatment_plans_planned_sessions', 'planned_sessions >= 0')
@Check('ck_treatment_plans_completed_sessions', 'completed_sessions >= 0')
@Check('ck_treatment_plans_status', inCheck('status', TreatmentPlanStatus))
export class TreatmentPlan extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'planned_sessions', type: 'integer' })
  plannedSessions: number;

  @Column({ name: 'completed_sessions', type: 'integer', default: 0 })
  completedSessions: number;

  @Column({ name: 'session_value_cents', type: 'integer', default: 0 })
  sessionValueCents: number;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: TreatmentPlanStatus;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'ends_at', type: 'timestamptz', nullable: true })
  endsAt: Date | null;
}
