import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/** The FHIR import's memory of resources without a record of their own (src/fhir-import/), under the tenant policy. */

export class FhirResources1795567300000 implements MigrationInterface {
  name = 'FhirResources1795567300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "fhir_resources" ("organization_id" uuid NOT NULL, "source" character varying(64) NOT NULL, "resource_type" character varying(64) NOT NULL, "resource_id" character varying(128) NOT NULL, "patient_ref" character varying(128) NOT NULL, "list" character varying(16), "item_enc" text, "target" character varying(160), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_fhir_resources" PRIMARY KEY ("organization_id", "source", "resource_type", "resource_id"))`);
    await queryRunner.query(`CREATE INDEX "idx_fhir_resources_patient" ON "fhir_resources"  ("organization_id", "source", "patient_ref") `);
    await queryRunner.query(`ALTER TABLE "fhir_resources" ADD CONSTRAINT "fk_fhir_resources_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "fhir_resources" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`CREATE POLICY "fhir_resources_tenant_isolation" ON "fhir_resources" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP POLICY "fhir_resources_tenant_isolation" ON "fhir_resources"`);
    await queryRunner.query(`ALTER TABLE "fhir_resources" DROP CONSTRAINT "fk_fhir_resources_organization_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_fhir_resources_patient"`);
    await queryRunner.query(`DROP TABLE "fhir_resources"`);
  }
}
