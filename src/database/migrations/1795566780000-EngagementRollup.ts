import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Engagement overview rollup (issue 7): per organization, the local days of each patient's completed visits and,
 * per (visit day, previous visit day), the number of patients and the sum of their engagement scores, so that the
 * overview counts distinct patients per bucket and window without reading the visits (docs/queries/engagement-overview.md).
 * Row-level security as on the other tenant tables. The survey index by time also carries the answers, so that the
 * overview counts a window's satisfaction and NPS answers index-only.
 */
const TABLES = ['engagement_rollups', 'engagement_patient_days', 'engagement_visit_gaps'] as const;

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

export class EngagementRollup1795566780000 implements MigrationInterface {
  name = 'EngagementRollup1795566780000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "engagement_patient_days" ("organization_id" uuid NOT NULL, "patient_id" uuid NOT NULL, "first_day" date NOT NULL, "days" date array NOT NULL, "engagement_score" real, CONSTRAINT "pk_engagement_patient_days" PRIMARY KEY ("organization_id", "patient_id"))`);
    await queryRunner.query(`CREATE INDEX "idx_engagement_patient_days_first_day" ON "engagement_patient_days"  ("organization_id", "first_day") `);
    await queryRunner.query(`CREATE TABLE "engagement_rollups" ("organization_id" uuid NOT NULL, "timezone" character varying(64) NOT NULL, "cutoff" date NOT NULL, "built_at" TIMESTAMP WITH TIME ZONE NOT NULL, "duration_ms" integer NOT NULL, CONSTRAINT "pk_engagement_rollups" PRIMARY KEY ("organization_id"))`);
    await queryRunner.query(`CREATE TABLE "engagement_visit_gaps" ("organization_id" uuid NOT NULL, "day" date NOT NULL, "prev" date NOT NULL, "patients" integer NOT NULL, "score_sum" double precision NOT NULL, "scored" integer NOT NULL, CONSTRAINT "pk_engagement_visit_gaps" PRIMARY KEY ("organization_id", "day", "prev"))`);
    await queryRunner.query(`ALTER TABLE "engagement_patient_days" ADD CONSTRAINT "fk_engagement_patient_days_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "engagement_rollups" ADD CONSTRAINT "fk_engagement_rollups_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "engagement_visit_gaps" ADD CONSTRAINT "fk_engagement_visit_gaps_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`DROP INDEX "public"."idx_survey_responses_organization_id_submitted_at"`);
    await queryRunner.query(`CREATE INDEX "idx_survey_responses_submitted_at_answers" ON "survey_responses"  ("organization_id", "submitted_at", "satisfaction", "nps") `);
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(
        `CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) {
      await queryRunner.query(`DROP POLICY IF EXISTS "${table}_tenant_isolation" ON "${table}"`);
    }
    await queryRunner.query(`ALTER TABLE "engagement_visit_gaps" DROP CONSTRAINT "fk_engagement_visit_gaps_organization_id"`);
    await queryRunner.query(`ALTER TABLE "engagement_rollups" DROP CONSTRAINT "fk_engagement_rollups_organization_id"`);
    await queryRunner.query(`ALTER TABLE "engagement_patient_days" DROP CONSTRAINT "fk_engagement_patient_days_organization_id"`);
    await queryRunner.query(`DROP TABLE "engagement_visit_gaps"`);
    await queryRunner.query(`DROP TABLE "engagement_rollups"`);
    await queryRunner.query(`DROP INDEX "public"."idx_engagement_patient_days_first_day"`);
    await queryRunner.query(`DROP TABLE "engagement_patient_days"`);
    await queryRunner.query(`DROP INDEX "public"."idx_survey_responses_submitted_at_answers"`);
    await queryRunner.query(`CREATE INDEX "idx_survey_responses_organization_id_submitted_at" ON "survey_responses"  ("organization_id", "submitted_at") `);
  }
}
