import { MigrationInterface, QueryRunner } from 'typeorm';

const CHILDREN: [table: string, column: string][] = [
  ['appointments', 'patient_id'],
  ['payments', 'patient_id'],
  ['communications', 'patient_id'],
  ['survey_responses', 'patient_id'],
  ['treatment_plans', 'patient_id'],
  ['journey_events', 'patient_id'],
  ['automation_enrollments', 'patient_id'],
  ['referrals', 'referrer_patient_id'],
  ['referrals', 'referred_patient_id'],
];

/**
 * Patient references of the record tables become (organization_id, <patient column>) → patients(organization_id, id):
 * a record can no longer point at another organization's patient, and deleting a patient cascades through the
 * existing (organization_id, patient_id, ...) indexes. With the single-column keys every patient delete scanned each
 * child table whole (none had an index leading with patient_id): replacing an organization of 20,000 seeded
 * patients took over ten minutes.
 *
 * TypeORM matches foreign keys by name, so the schema diff does not see this change: written by hand.
 */
export class CompositePatientForeignKeys1795566300000 implements MigrationInterface {
  name = 'CompositePatientForeignKeys1795566300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "patients" ADD CONSTRAINT "uq_patients_organization_id_id" UNIQUE ("organization_id", "id")`);
    await queryRunner.query(`DROP INDEX "public"."idx_patients_organization_id_id"`);
    await queryRunner.query(`CREATE INDEX "idx_patients_referred_by_id" ON "patients"  ("referred_by_id") WHERE referred_by_id IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "idx_referrals_organization_id_referred_patient_id" ON "referrals"  ("organization_id", "referred_patient_id") `);
    for (const [table, column] of CHILDREN) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "fk_${table}_${column}"`);
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "fk_${table}_${column}" FOREIGN KEY ("organization_id", "${column}") REFERENCES "patients"("organization_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column] of CHILDREN) {
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "fk_${table}_${column}"`);
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "fk_${table}_${column}" FOREIGN KEY ("${column}") REFERENCES "patients"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
      );
    }
    await queryRunner.query(`DROP INDEX "public"."idx_referrals_organization_id_referred_patient_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_patients_referred_by_id"`);
    await queryRunner.query(`CREATE INDEX "idx_patients_organization_id_id" ON "patients"  ("organization_id", "id") `);
    await queryRunner.query(`ALTER TABLE "patients" DROP CONSTRAINT "uq_patients_organization_id_id"`);
  }
}
