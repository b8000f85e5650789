import { MigrationInterface, QueryRunner } from 'typeorm';

const SIGNATURE = `uuid, uuid[], timestamptz[], text[], uuid[], text[], text[], text[], text[], text[], text[], text[], text[], integer[], text[], text[], text[], bytea[]`;

/**
 * `audit_append_batch()` runs its statements with generic plans (`plan_cache_mode = force_generic_plan` for the
 * function's calls). Its INSERT reads `generate_series(1, n)`: a generic plan estimates that at 1,000 rows, a custom
 * one at the batch's few, so PostgreSQL's choice between them (`auto`) kept a custom plan and planned the INSERT
 * again on every call, a third of the call's time: one event 0.28-0.34 ms against 0.20-0.22 with the generic plan,
 * five events 0.38-0.39 against 0.31-0.33 (pgbench at one client on the million-patient clinic, docs/performance.md,
 * "The twenty-third sitting"). The plan is the same either way (a function scan into the insert); only its costing
 * differs. The setting holds for the function's own statements only and ends with the call.
 */
export class AuditAppendBatchGenericPlan1795568700000 implements MigrationInterface {
  name = 'AuditAppendBatchGenericPlan1795568700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION "audit_append_batch"(${SIGNATURE}) SET plan_cache_mode = 'force_generic_plan'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION "audit_append_batch"(${SIGNATURE}) RESET plan_cache_mode`);
  }
}
