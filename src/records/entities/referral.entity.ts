import { Column, Entity, ForeignKey, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';

/** No uniqueness on the referred patient: a patient can be referred again. */
@Entity({ name: 'referrals' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_referrals_organization_id',
  onDelete: 'CASCADE',
})
@Unique('uq_referrals_source_external_id', ['organizationId', 'source', 'externalId'])
@ForeignKey(() => Patient, ['organizationId', 'referrerPatientId'], ['organizationId', 'id'], {
  name: 'fk_referrals_referrer_patient_id',
  onDelete: 'CASCADE',
})
@ForeignKey(() => Patient, ['organizationId', 'referredPatientId'], ['organizationId', 'id'], {
  name: 'fk_referrals_referred_patient_id',
  onDelete: 'CASCADE',
})
@Index('idx_referrals_organization_id_referrer_patient_id', ['organizationId', 'referrerPatientId'])
@Index('idx_referrals_organization_id_referred_patient_id', ['organizationId', 'referredPatientId'])
export class Referral extends SourcedEntity {
  @Column({ name: 'referrer_patient_id', type: 'uuid' })
  referrerPatientId: string;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'referrer_patient_id' })
  referrerPatient?: Patient;

  /** Null once the referred patient was erased: the referral made by the referrer stays, without their identity. */
  @Column({ name: 'referred_patient_id', type: 'uuid', nullable: true })
  referredPatientId: string | null;

  @ManyToOne(() => Patient, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'referred_patient_id' })
  referredPatient?: Patient;

  @Column({ name: 'referred_at', type: 'timestamptz' })
  referredAt: Date;
}
