import { Column, CreateDateColumn, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';

/**
 * An organization's key-encryption key (KEK), wrapped by the configured master key (PHI_ENCRYPTION_KEYS):
 * `<masterVersion>:<base64(iv | tag | key)>`, AES-256-GCM bound to (organization, version). It wraps the patients'
 * data keys and encrypts the organization's values that belong to no patient. docs/privacy.md, "Keys".
 */
@Entity({ name: 'organization_keys' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_organization_keys_organization_id', onDelete: 'CASCADE' })
export class OrganizationKey {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_organization_keys' })
  organizationId: string;

  @PrimaryColumn({ name: 'version', type: 'integer', primaryKeyConstraintName: 'pk_organization_keys' })
  version: number;

  @Column({ name: 'wrapped_key', type: 'text' })
  wrappedKey: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/**
 * A patient's data key (DEK), wrapped by their organization's key of version `kek_version` (AES-256-GCM,
 * `iv | tag | key`, bound to organization, patient and version). Deleting the row (the patient's erasure deletes every
 * row with a `patient_id`; the patient's delete cascades here) destroys the key: what backups and WAL still hold of
 * the patient's values can no longer be decrypted (crypto-shredding).
 */
@Entity({ name: 'patient_keys' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_patient_keys_organization_id', onDelete: 'CASCADE' })
@ForeignKey(() => Patient, ['organizationId', 'patientId'], ['organizationId', 'id'], { name: 'fk_patient_keys_patient_id', onDelete: 'CASCADE' })
export class PatientKey {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_keys' })
  organizationId: string;

  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_keys' })
  patientId: string;

  @Column({ name: 'wrapped_key', type: 'bytea' })
  wrappedKey: Buffer;

  @Column({ name: 'kek_version', type: 'integer' })
  kekVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
