import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A job run's dedup key is unique per organization AND type: the follow-ups of one recompute (an opportunities
 * refresh and an engagement rebuild, both keyed `after-recompute:<id>`) are two runs, not one. With the key unique
 * per organization only, whichever follow-up was enqueued second was silently dropped (found by the cluster test,
 * test/jobs/cluster.e2e-spec.ts).
 */
export class JobRunsDedupPerType1795567500000 implements MigrationInterface {
  name = 'JobRunsDedupPerType1795567500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_job_runs_organization_id_dedup_key"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_job_runs_organization_id_type_dedup_key" ON "job_runs"  ("organization_id", "type", "dedup_key") WHERE dedup_key IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."uq_job_runs_organization_id_type_dedup_key"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_job_runs_organization_id_dedup_key" ON "job_runs"  ("organization_id", "dedup_key") WHERE dedup_key IS NOT NULL`,
    );
  }
}
