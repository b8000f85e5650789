import { MigrationInterface, QueryRunner } from 'typeorm';

export class Opportunities1795566752783 implements MigrationInterface {
  name = 'Opportunities1795566752783';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "opportunity_refreshes" ("organization_id" uuid NOT NULL, "refreshed_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ltv_threshold_cents" integer NOT NULL, "totals" jsonb NOT NULL DEFAULT '[]', "duration_ms" integer NOT NULL, CONSTRAINT "pk_opportunity_refreshes" PRIMARY KEY ("organization_id"))`);
    await queryRunner.query(`CREATE TABLE "reengagement_opportunities" ("organization_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "patient_id" uuid NOT NULL, "opportunity_type" character varying(32) NOT NULL, "priority" character varying(8) NOT NULL, "outreach" character varying(16) NOT NULL, "channel" character varying(16) NOT NULL, "patient_status" character varying(16) NOT NULL, "estimated_value_cents" integer NOT NULL, "success_probability" real NOT NULL, "expected_return_cents" double precision NOT NULL, "last_contact_at" TIMESTAMP WITH TIME ZONE, "expected_visit_at" TIMESTAMP WITH TIME ZONE, "computed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "ck_reengagement_opportunities_channel" CHECK (channel IN ('phone', 'sms', 'email', 'whatsapp')), CONSTRAINT "ck_reengagement_opportunities_outreach" CHECK (outreach IN ('offer', 'reminder', 'next_contact')), CONSTRAINT "ck_reengagement_opportunities_priority" CHECK (priority IN ('high', 'medium', 'low')), CONSTRAINT "ck_reengagement_opportunities_type" CHECK (opportunity_type IN ('overdue_appointment', 'inactive_patient', 'high_value_risk')), CONSTRAINT "pk_reengagement_opportunities" PRIMARY KEY ("patient_id"))`);
    await queryRunner.query(`CREATE INDEX "idx_reengagement_opportunities_priority_expected_return" ON "reengagement_opportunities"  ("organization_id", "priority", "expected_return_cents", "patient_id") `);
    await queryRunner.query(`CREATE INDEX "idx_reengagement_opportunities_type_expected_return" ON "reengagement_opportunities"  ("organization_id", "opportunity_type", "expected_return_cents", "patient_id") `);
    await queryRunner.query(`CREATE INDEX "idx_reengagement_opportunities_expected_return" ON "reengagement_opportunities"  ("organization_id", "expected_return_cents", "patient_id") `);
    await queryRunner.query(`ALTER TABLE "opportunity_refreshes" ADD CONSTRAINT "fk_opportunity_refreshes_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_patient_id" FOREIGN KEY ("patient_id") REFERENCES "patients"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" DROP CONSTRAINT "fk_reengagement_opportunities_organization_id"`);
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" DROP CONSTRAINT "fk_reengagement_opportunities_patient_id"`);
    await queryRunner.query(`ALTER TABLE "opportunity_refreshes" DROP CONSTRAINT "fk_opportunity_refreshes_organization_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_reengagement_opportunities_expected_return"`);
    await queryRunner.query(`DROP INDEX "public"."idx_reengagement_opportunities_type_expected_return"`);
    await queryRunner.query(`DROP INDEX "public"."idx_reengagement_opportunities_priority_expected_return"`);
    await queryRunner.query(`DROP TABLE "reengagement_opportunities"`);
    await queryRunner.query(`DROP TABLE "opportunity_refreshes"`);
  }
}
