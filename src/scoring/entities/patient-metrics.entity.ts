import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, JoinColumn, OneToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { inCheck } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';
import { PatientStatus } from 'src/scoring/domain/patient-status';
import { RiskLevel } from 'src/scoring/domain/risk-score';
import { RiskTrend } from 'src/scoring/domain/risk-trend';

/** One risk factor in `risk_factors` (shape owned by the scoring service). */
export type RiskFactor = Record<string, unknown>;

/**
 * Derived, denormalized per-patient scores (one row per patient). Every list index
 * ends with `patient_id` so keyset pagination on (sort key, patient_id) is index-only.
 *
 * Partitioned by organization (LIST on organization_id, migration 1795566900000; partitions are not entities), so
 * the primary key includes organization_id: a partition of its own for each organization above the rebuild threshold,
 * the DEFAULT partition `patient_metrics_default` for all the others (1795567900000).
 */
@Entity({ name: 'patient_metrics' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_patient_metrics_organization_id',
  onDelete: 'CASCADE',
})
@Index('idx_patient_metrics_sort_name', ['organizationId', 'sortName', 'patientId'])
@Index('idx_patient_metrics_status_sort_name', ['organizationId', 'status', 'sortName', 'patientId'])
@Index('idx_patient_metrics_ltv_cents', ['organizationId', 'ltvCents', 'patientId'])
@Index('idx_patient_metrics_status_ltv_cents', ['organizationId', 'status', 'ltvCents', 'patientId'])
@Index('idx_patient_metrics_last_appointment_at', ['organizationId', 'lastAppointmentAt', 'patientId'])
@Index('idx_patient_metrics_status_last_appointment_at', [
  'organizationId',
  'status',
  'lastAppointmentAt',
  'patientId',
])
@Index('idx_patient_metrics_risk_score', ['organizationId', 'riskScore', 'patientId'])
@Index('idx_patient_metrics_status_risk_score', ['organizationId', 'status', 'riskScore', 'patientId'])
@Index('idx_patient_metrics_stale', ['organizationId', 'patientId'], { where: 'stale' })
@Check('ck_patient_metrics_status', inCheck('status', PatientStatus))
@Check('ck_patient_metrics_risk_level', inCheck('risk_level', RiskLevel))
@Check('ck_patient_metrics_risk_trend', inCheck('risk_trend', RiskTrend))
export class PatientMetrics {
  /** The columns of OrgOwnedEntity, declared here: organization_id is part of the primary key. */
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_metrics' })
  organizationId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_metrics' })
  patientId: string;

  @OneToOne(() => Patient, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'patient_id', foreignKeyConstraintName: 'fk_patient_metrics_patient_id' })
  patient?: Patient;

  /** Lower-cased copy of the patient's name for sorting and prefix search. */
  @Column({ name: 'sort_name', type: 'varchar', length: 200 })
  sortName: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status: PatientStatus;

  @Column({ name: 'risk_score', type: 'real', default: 0 })
  riskScore: number;

  @Column({ name: 'risk_level', type: 'varchar', length: 8 })
  riskLevel: RiskLevel;

  @Column({ name: 'risk_factors', type: 'jsonb', default: [] })
  riskFactors: RiskFactor[];

  @Column({ name: 'risk_trend', type: 'varchar', length: 10, default: RiskTrend.Stable })
  riskTrend: RiskTrend;

  @Column({ name: 'engagement_score', type: 'real', default: 0 })
  engagementScore: number;

  @Column({ name: 'ltv_cents', type: 'integer', default: 0 })
  ltvCents: number;

  @Column({ name: 'historical_revenue_cents', type: 'integer', default: 0 })
  historicalRevenueCents: number;

  @Column({ name: 'future_value_cents', type: 'integer', default: 0 })
  futureValueCents: number;

  @Column({ name: 'referral_value_cents', type: 'integer', default: 0 })
  referralValueCents: number;

  @Column({ name: 'total_sessions', type: 'integer', default: 0 })
  totalSessions: number;

  @Column({ name: 'avg_session_value_cents', type: 'integer', default: 0 })
  avgSessionValueCents: number;

  /** The patient's first completed visit ever (engagement overview: new vs returning patients). */
  @Column({ name: 'first_visit_at', type: 'timestamptz', nullable: true })
  firstVisitAt: Date | null;

  @Column({ name: 'last_appointment_at', type: 'timestamptz', nullable: true })
  lastAppointmentAt: Date | null;

  @Column({ name: 'next_appointment_at', type: 'timestamptz', nullable: true })
  nextAppointmentAt: Date | null;

  @Column({ name: 'last_contact_at', type: 'timestamptz', nullable: true })
  lastContactAt: Date | null;

  @Column({ name: 'success_probability', type: 'real', default: 0 })
  successProbability: number;

  /** Set when source records change; cleared by the recompute job (see `idx_patient_metrics_stale`). */
  @Column({ name: 'stale', type: 'boolean', default: true })
  stale: boolean;

  @Column({ name: 'computed_at', type: 'timestamptz', nullable: true })
  computedAt: Date | null;
}
