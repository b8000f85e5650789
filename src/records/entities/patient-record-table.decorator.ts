import { Entity, ForeignKey, Unique } from 'typeorm';
import { Organization } from 'src/organizations/entities/organization.entity';
import { Patient } from 'src/records/entities/patient.entity';

/**
 * A table of records about one patient that come from an outside system: the entity, its organization foreign
 * key, the composite patient foreign key (the patient must belong to the same organization, and a patient's
 * delete cascades through the `(organization_id, patient_id, ...)` index instead of scanning the table), and the
 * `(organization_id, source, external_id)` key that makes re-sent records update instead of duplicate.
 * Constraint names are `fk_<table>_organization_id`, `fk_<table>_patient_id`, `uq_<table>_source_external_id`.
 */
export function PatientRecordTable(table: string): ClassDecorator {
  return (target) => {
    Unique(`uq_${table}_source_external_id`, ['organizationId', 'source', 'externalId'])(target);
    ForeignKey(() => Patient, ['organizationId', 'patientId'], ['organizationId', 'id'], {
      name: `fk_${table}_patient_id`,
      onDelete: 'CASCADE',
    })(target);
    ForeignKey(() => Organization, ['organizationId'], ['id'], { name: `fk_${table}_organization_id`, onDelete: 'CASCADE' })(target);
    Entity({ name: table })(target);
  };
}
