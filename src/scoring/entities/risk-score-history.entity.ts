import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { OrgOwnedEntity } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';

/** Daily risk-score snapshot per patient (for trends). */
@Entity({ name: 'risk_score_history' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_risk_score_history_organization_id',
  onDelete: 'CASCADE',
})
@Index('idx_risk_score_history_organization_id_patient_id_recorded_on', ['organizationId', 'patientId', 'recordedOn'])
export class RiskScoreHistory extends OrgOwnedEntity {
  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_risk_score_history' })
  patientId: string;

  @ManyToOne(() => Patient, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'patient_id', foreignKeyConstraintName: 'fk_risk_score_history_patient_id' })
  patient?: Patient;

  /** Calendar date `YYYY-MM-DD` (the driver returns `date` columns as strings). */
  @PrimaryColumn({ name: 'recorded_on', type: 'date', primaryKeyConstraintName: 'pk_risk_score_history' })
  recordedOn: string;

  @Column({ name: 'risk_score', type: 'real' })
  riskScore: number;
}
