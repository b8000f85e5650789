import type { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)`;

/**
 * Patients' identifiers in outside systems (FHIR `Patient.identifier`: MRNs, SSNs...), kept as external ids
 * (src/records/identifiers/patient-identifiers.ts): a keyed hash to look a logical reference up by, the value
 * encrypted under the patient's key. Keyed by (organization, source, hash, patient): two patients with the same
 * identifier make a reference by it ambiguous rather than one of them chosen. Rows go with their patient (an erasure
 * deletes every row with a `patient_id`; the patient's delete cascades). Under the tenant policy.
 */
export class PatientIdentifiers1795567800000 implements MigrationInterface {
  name = 'PatientIdentifiers1795567800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "patient_identifiers" ("organization_id" uuid NOT NULL, "source" character varying(64) NOT NULL, "identifier_hash" character varying(64) NOT NULL, "patient_id" uuid NOT NULL, "identifier_enc" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_patient_identifiers" PRIMARY KEY ("organization_id", "source", "identifier_hash", "patient_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_patient_identifiers_patient_id" ON "patient_identifiers" ("organization_id", "patient_id") `);
    await queryRunner.query(
      `ALTER TABLE "patient_identifiers" ADD CONSTRAINT "fk_patient_identifiers_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "patient_identifiers" ADD CONSTRAINT "fk_patient_identifiers_patient_id" FOREIGN KEY ("organization_id", "patient_id") REFERENCES "patients"("organization_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(`ALTER TABLE "patient_identifiers" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY "patient_identifiers_tenant_isolation" ON "patient_identifiers" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP POLICY "patient_identifiers_tenant_isolation" ON "patient_identifiers"`);
    await queryRunner.query(`ALTER TABLE "patient_identifiers" DROP CONSTRAINT "fk_patient_identifiers_patient_id"`);
    await queryRunner.query(`ALTER TABLE "patient_identifiers" DROP CONSTRAINT "fk_patient_identifiers_organization_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_patient_identifiers_patient_id"`);
    await queryRunner.query(`DROP TABLE "patient_identifiers"`);
  }
}
