import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index for the FHIR import's "which of these Claims has an ExplanationOfBenefit settled" lookup
 * (`FhirImportRepository.settled`: `resource_type = 'ExplanationOfBenefit' AND target = ANY(...)`). Without it each
 * chunk of Claims read every EOB of the organization and source through the primary key's prefix, so Claims arriving
 * after their EOBs (a second import of the same export, or files in another order) cost a scan of all EOBs per chunk
 * of 1,000: quadratic in the export's size.
 */
export class FhirEobTargetIndex1795567760000 implements MigrationInterface {
  name = 'FhirEobTargetIndex1795567760000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "idx_fhir_resources_eob_target" ON "fhir_resources" ("organization_id", "source", "target") WHERE "resource_type" = 'ExplanationOfBenefit'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_fhir_resources_eob_target"`);
  }
}
