import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';

/**
 * A patient's identifier from an outside system (a FHIR `Patient.identifier`: an MRN, an SSN, a driver's licence...),
 * kept as an external id of theirs within the source that sent it (src/records/identifiers/patient-identifiers.ts).
 * Identifiers are PHI: nothing readable is stored. `identifier_hash` is a keyed hash (the blind index key, over the
 * organization, source, system and value) for the look-up of a logical reference (`{ identifier: { system, value } }`);
 * `identifier_enc` is `{ system, value }` encrypted under the patient's data key (their export shows it). An erasure
 * deletes the rows (a `patient_id` column) and records a tombstone of each identifier.
 */
@Entity({ name: 'patient_identifiers' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_patient_identifiers_organization_id', onDelete: 'CASCADE' })
@ForeignKey(() => Patient, ['organizationId', 'patientId'], ['organizationId', 'id'], {
  name: 'fk_patient_identifiers_patient_id',
  onDelete: 'CASCADE',
})
@Index('idx_patient_identifiers_patient_id', ['organizationId', 'patientId'])
export class PatientIdentifier {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_identifiers' })
  organizationId: string;

  @PrimaryColumn({ name: 'source', type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_patient_identifiers' })
  source: string;

  /** HMAC-SHA256 (hex) of the identifier: the look-up key. */
  @PrimaryColumn({ name: 'identifier_hash', type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_patient_identifiers' })
  identifierHash: string;

  /** Two patients may carry the same identifier (a bad export): a reference by it is then ambiguous, not guessed. */
  @PrimaryColumn({ name: 'patient_id', type: 'uuid', primaryKeyConstraintName: 'pk_patient_identifiers' })
  patientId: string;

  /** `{ system, value }`, encrypted under the patient's data key, bound to (patient, hash). */
  @Column({ name: 'identifier_enc', type: 'text' })
  identifierEnc: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
