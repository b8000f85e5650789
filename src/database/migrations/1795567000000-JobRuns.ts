import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/**
 * `job_runs` (src/jobs/entities/job-run.entity.ts) under the tenant policy of every organization table, and
 * `job_runs_unfinished()`: the queued and running runs of every organization (ids, types and workers: no payload),
 * for the one cross-organization read the job system makes, a restarted process looking for its unfinished runs.
 */
export class JobRuns1795567000000 implements MigrationInterface {
  name = 'JobRuns1795567000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "job_runs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "type" character varying(64) NOT NULL, "dedup_key" character varying(200), "status" character varying(16) NOT NULL, "payload" jsonb NOT NULL DEFAULT '{}', "result" jsonb, "progress" real, "queued_at" TIMESTAMP WITH TIME ZONE NOT NULL, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "attempts" integer NOT NULL DEFAULT '0', "worker" character varying(200), "error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_job_runs_progress" CHECK (progress IS NULL OR (progress >= 0 AND progress <= 1)), CONSTRAINT "ck_job_runs_status" CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')), CONSTRAINT "pk_job_runs" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_job_runs_unfinished" ON "job_runs"  ("status") WHERE status IN ('queued', 'running')`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_job_runs_organization_id_dedup_key" ON "job_runs"  ("organization_id", "dedup_key") WHERE dedup_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "idx_job_runs_organization_id_queued_at" ON "job_runs"  ("organization_id", "queued_at") `);
    await queryRunner.query(`ALTER TABLE "job_runs" ADD CONSTRAINT "fk_job_runs_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "job_runs" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY "job_runs_tenant_isolation" ON "job_runs" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
    );
    await queryRunner.query(`CREATE FUNCTION job_runs_unfinished()
      RETURNS TABLE (id uuid, organization_id uuid, type varchar, status varchar, worker varchar, queued_at timestamptz)
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT id, organization_id, type, status, worker, queued_at FROM job_runs WHERE status IN ('queued', 'running') ORDER BY queued_at
      $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION job_runs_unfinished() FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION job_runs_unfinished() TO patient_journey_app`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION job_runs_unfinished()`);
    await queryRunner.query(`DROP POLICY "job_runs_tenant_isolation" ON "job_runs"`);
    await queryRunner.query(`ALTER TABLE "job_runs" DROP CONSTRAINT "fk_job_runs_organization_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_job_runs_organization_id_queued_at"`);
    await queryRunner.query(`DROP INDEX "public"."uq_job_runs_organization_id_dedup_key"`);
    await queryRunner.query(`DROP INDEX "public"."idx_job_runs_unfinished"`);
    await queryRunner.query(`DROP TABLE "job_runs"`);
  }
}
