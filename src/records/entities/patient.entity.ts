import { Check, Column, DeleteDateColumn, Entity, ForeignKey, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { inCheck, SourcedEntity } from 'src/database/entities/org-scoped.entity';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Channel } from 'src/records/records.enums';

/**
 * PHI columns (`*_enc`) hold ciphertext `v1:<base64>`; the property names carry no
 * suffix because services see them decrypted. `email_bidx` / `phone_bidx` are blind
 * indexes (keyed hashes of the normalized value) for equality lookups.
 *
 * Functional indexes (e.g. on `lower(name)`) are written by hand in the migration.
 */
@Entity({ name: 'patients' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], {
  name: 'fk_patients_organization_id',
  onDelete: 'CASCADE',
})
@Unique('uq_patients_source_external_id', ['organizationId', 'source', 'externalId'])
@Index('idx_patients_organization_id_email_bidx', ['organizationId', 'emailBidx'])
@Index('idx_patients_organization_id_phone_bidx', ['organizationId', 'phoneBidx'])
// Unique so that child tables can reference (organization_id, id): a record cannot point at another tenant's patient.
@Unique('uq_patients_organization_id_id', ['organizationId', 'id'])
// The ON DELETE SET NULL of `referred_by_id` looks referrers up by this column alone.
@Index('idx_patients_referred_by_id', ['referredById'], { where: 'referred_by_id IS NOT NULL' })
@Index('idx_patients_organization_id_consent_review_at', ['organizationId', 'consentReviewAt'], { where: 'consent_review_at IS NOT NULL' })
@Check('ck_patients_preferred_channel', inCheck('preferred_channel', Channel))
export class Patient extends SourcedEntity {
  @Column({ name: 'name', type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'phone_enc', type: 'text', nullable: true })
  phone: string | null;

  @Column({ name: 'email_enc', type: 'text', nullable: true })
  email: string | null;

  /**
   * Phone and email again, as one encrypted JSON `{ phone, email }` (its own place): what the patient list reads, one
   * decryption per row. Null on rows stored before it existed (the list then reads the two columns above).
   */
  @Column({ name: 'contact_enc', type: 'text', nullable: true })
  contact: string | null;

  @Column({ name: 'date_of_birth_enc', type: 'text', nullable: true })
  dateOfBirth: string | null;

  /** Encrypted JSON `{ street, city, state, zip }`. */
  @Column({ name: 'address_enc', type: 'text', nullable: true })
  address: string | null;

  /** Encrypted JSON array. */
  @Column({ name: 'conditions_enc', type: 'text', nullable: true })
  conditions: string | null;

  /** Encrypted JSON array. */
  @Column({ name: 'allergies_enc', type: 'text', nullable: true })
  allergies: string | null;

  /** Encrypted JSON array. */
  @Column({ name: 'medications_enc', type: 'text', nullable: true })
  medications: string | null;

  @Column({ name: 'email_bidx', type: 'varchar', length: 64, nullable: true })
  emailBidx: string | null;

  @Column({ name: 'phone_bidx', type: 'varchar', length: 64, nullable: true })
  phoneBidx: string | null;

  @Column({ name: 'preferred_channel', type: 'varchar', length: 16, default: Channel.Email })
  preferredChannel: Channel;

  @Column({ name: 'marketing_consent', type: 'boolean', default: false })
  marketingConsent: boolean;

  @Column({ name: 'appointment_reminders', type: 'boolean', default: true })
  appointmentReminders: boolean;

  /**
   * The effective consent grants (src/consent/domain/consent-policy.ts), kept by the consent writer with
   * `marketing_consent` and `appointment_reminders`: `<purpose>:<channel>` for the purposes that contact the patient,
   * `<purpose>` for the others. What every query that must honour consent filters on.
   */
  @Column({ name: 'consent_grants', type: 'text', array: true, default: () => "'{}'" })
  consentGrants: string[];

  /** When the earliest effective grant expires: the consent expiry sweep recomputes the grants then. */
  @Column({ name: 'consent_review_at', type: 'timestamptz', nullable: true })
  consentReviewAt: Date | null;

  @Column({ name: 'referred_by_id', type: 'uuid', nullable: true })
  referredById: string | null;

  @ManyToOne(() => Patient, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'referred_by_id', foreignKeyConstraintName: 'fk_patients_referred_by_id' })
  referredBy?: Patient | null;

  @Column({ name: 'registered_at', type: 'timestamptz', default: () => 'now()' })
  registeredAt: Date;

  /** Soft delete: repository `find*` calls skip rows with `deleted_at` set unless `withDeleted`. */
  @DeleteDateColumn({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
