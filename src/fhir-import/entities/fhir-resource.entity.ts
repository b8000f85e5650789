import { Column, Entity, ForeignKey, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';

/**
 * What the FHIR import remembers of a resource that has no record of its own (src/fhir-import/, docs/fhir.md):
 * a Condition, AllergyIntolerance or MedicationRequest/MedicationStatement is one item of its patient's medical list
 * (`list`, `item_enc`: the display, encrypted; null when the resource is no longer active), and an
 * ExplanationOfBenefit notes the Claim whose payment it settled (`target`), so that the Claim, arriving later, does
 * not overwrite it. Keyed like every record by (organization, source, resource type, id): a re-import finds it.
 */
@Entity({ name: 'fhir_resources' })
@ForeignKey(() => Organization, ['organizationId'], ['id'], { name: 'fk_fhir_resources_organization_id', onDelete: 'CASCADE' })
@Index('idx_fhir_resources_patient', ['organizationId', 'source', 'patientRef'])
// The "which Claims has an EOB settled" look-up (migration 1795567760000).
@Index('idx_fhir_resources_eob_target', ['organizationId', 'source', 'target'], { where: `"resource_type" = 'ExplanationOfBenefit'` })
export class FhirResource {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid', primaryKeyConstraintName: 'pk_fhir_resources' })
  organizationId: string;

  @PrimaryColumn({ name: 'source', type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_fhir_resources' })
  source: string;

  @PrimaryColumn({ name: 'resource_type', type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_fhir_resources' })
  resourceType: string;

  @PrimaryColumn({ name: 'resource_id', type: 'varchar', length: 128, primaryKeyConstraintName: 'pk_fhir_resources' })
  resourceId: string;

  /** The FHIR id of the patient it belongs to (the patient record's external_id in the same source). */
  @Column({ name: 'patient_ref', type: 'varchar', length: 128 })
  patientRef: string;

  /** `conditions`, `allergies` or `medications` for a list item; null otherwise. */
  @Column({ name: 'list', type: 'varchar', length: 16, nullable: true })
  list: string | null;

  /** The item's display text, encrypted (PHI); null when the resource is not active (not on the list). */
  @Column({ name: 'item_enc', type: 'text', nullable: true })
  itemEnc: string | null;

  /** For an ExplanationOfBenefit: the external id of the payment it wrote (the Claim's). */
  @Column({ name: 'target', type: 'varchar', length: 160, nullable: true })
  target: string | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
