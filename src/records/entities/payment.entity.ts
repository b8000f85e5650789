import { Check, Column, Index, JoinColumn, ManyToOne } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { PaymentKind, PaymentStatus } from 'src/records/records.enums';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientRecordTable } from 'src/records/entities/patient-record-table.decorator';

@PatientRecordTable('payments')
@Index('idx_payments_organization_id_patient_id_occurred_at', ['organizationId', 'patientId', 'occurredAt'])
@Check('ck_payments_amount_cents', 'amount_cents >= 0')
@Check('ck_payments_kind', inCheck('kind', PaymentKind))
@Check('ck_payments_status', inCheck('status', PaymentStatus))
export class Payment extends SourcedEntity {
  @Column({ name: 'patient_id', type: 'uuid' })
  patientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'patient_id' })
  patient?: Patient;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  /** Always non-negative; the direction comes from `kind`. */
  @Column({ name: 'amount_cents', type: 'integer' })
  amountCents: number;

  @Column({ name: 'kind', type: 'varchar', length: 16 })
  kind: PaymentKind;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: PaymentStatus;
}
