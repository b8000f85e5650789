import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Engagement overview (issue 7): `patient_metrics.first_visit_at` (filled by the scoring recompute, which already
 * computes it) tells new from returning patients without a probe per patient, and a partial index on completed
 * appointments by time serves the overview's window scan index-only.
 */
export class FirstVisitAndVisitIndex1795566770000 implements MigrationInterface {
  name = 'FirstVisitAndVisitIndex1795566770000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "patient_metrics" ADD "first_visit_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`CREATE INDEX "idx_appointments_completed_starts_at" ON "appointments"  ("organization_id", "starts_at", "patient_id") WHERE status = 'completed'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_appointments_completed_starts_at"`);
    await queryRunner.query(`ALTER TABLE "patient_metrics" DROP COLUMN "first_visit_at"`);
  }
}
