import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `risk_score_history` is read per patient (the features SQL's last and baseline scores: organization, patient, day),
 * never per organization and day alone. Its `(organization_id, recorded_on)` index served no query, and on a first
 * run it was worse than useless: with the table's statistics taken while it was empty, the planner chose it for
 * those per-patient look-ups, so each patient scanned every row the run had already written that day (a
 * million-patient first run was still at 10 % after 18 minutes). The index now leads with the organization and the
 * patient, as the look-ups do; the primary key `(patient_id, recorded_on)` stays for the per-patient cascade and
 * the writer's ON CONFLICT.
 */
export class RiskHistoryByPatient1795567060000 implements MigrationInterface {
  name = 'RiskHistoryByPatient1795567060000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_risk_score_history_organization_id_recorded_on"`);
    await queryRunner.query(
      `CREATE INDEX "idx_risk_score_history_organization_id_patient_id_recorded_on" ON "risk_score_history" ("organization_id", "patient_id", "recorded_on")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_risk_score_history_organization_id_patient_id_recorded_on"`);
    await queryRunner.query(
      `CREATE INDEX "idx_risk_score_history_organization_id_recorded_on" ON "risk_score_history" ("organization_id", "recorded_on")`,
    );
  }
}
