import { Check, Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/common/database/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { PaymentKind, PaymentStatus } from '../records.enums';
import { Patient } from './patient.entity';

@Entity({ name: 'payments' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_payments_organization_id',
  onDelete: 'CASCADE',
})
// Composite: the patient must belong to the same organization, and a patient's delete cascades through the
// (organization_id, patient_id, ...) index instead of scanning the table.
@ForeignKey(() => Patient, ['organizationId', 'patientId'], ['organizationId', 'id'], {
  name: 'fk_payments_patient_id',
  onDelete: 'CASCADE',
})
@Unique('uq_payments_source_external_id', ['organizationId', 'source', 'externalId'])
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
