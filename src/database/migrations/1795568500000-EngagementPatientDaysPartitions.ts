import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)`;
const DEFAULT_PARTITION = 'engagement_patient_days_default';

/** The table's keys, index, row-level security, policy and grants: on the partitioned parent (up), on the one table (down). */
async function keysAndPolicy(q: (sql: string) => Promise<unknown>): Promise<void> {
  await q(
    `ALTER TABLE "engagement_patient_days" ADD CONSTRAINT "pk_engagement_patient_days" PRIMARY KEY ("organization_id", "patient_id")`,
  );
  await q(`CREATE INDEX "idx_engagement_patient_days_first_day" ON "engagement_patient_days" ("organization_id", "first_day")`);
  await q(`ALTER TABLE "engagement_patient_days" ADD CONSTRAINT "fk_engagement_patient_days_organization_id" FOREIGN KEY ("organization_id")
    REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
  await q(`ALTER TABLE "engagement_patient_days" ENABLE ROW LEVEL SECURITY`);
  await q(`CREATE POLICY "engagement_patient_days_tenant_isolation" ON "engagement_patient_days" TO patient_journey_app
    USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
  await q(`REVOKE ALL ON "engagement_patient_days" FROM patient_journey_app`);
  await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON "engagement_patient_days" TO patient_journey_app`);
}

/**
 * `engagement_patient_days` partitioned by organization (LIST on organization_id), as `patient_metrics` and
 * `reengagement_opportunities` are (1795566900000, 1795568400000): a DEFAULT partition,
 * `engagement_patient_days_default`, for every organization without a partition of its own, which is every
 * organization until the engagement rebuild of a large one (from REBUILD_MIN_PATIENTS live patients) builds its rows
 * into a fresh table, in two halves at once, and swaps it in as its partition
 * (src/engagement/engagement-partition-swap.ts; docs/queries/engagement-overview.md, "Upkeep"; docs/performance.md, "The
 * seventeenth sitting"). The small organizations all stay in the default partition: no relation per clinic.
 *
 * - The primary key (organization_id, patient_id) already holds the partition key; the same index, foreign key,
 *   policy and grant names on the parent; partitions: row-level security enabled without a policy and no grant to the
 *   runtime role (the app reaches them through the parent only); fillfactor 50 on the default partition
 *   (1795568200000: its rows are updated in place by the rebuild of a small organization).
 * - The existing rows are moved into the default partition in one INSERT (the migration's transaction; the table is
 *   locked meanwhile): the large organizations move out at their next rebuild.
 */
export class EngagementPatientDaysPartitions1795568500000 implements MigrationInterface {
  name = 'EngagementPatientDaysPartitions1795568500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await q(`ALTER TABLE "engagement_patient_days" DROP CONSTRAINT "fk_engagement_patient_days_organization_id"`);
    await q(`ALTER TABLE "engagement_patient_days" DROP CONSTRAINT "pk_engagement_patient_days"`);
    await q(`DROP INDEX "public"."idx_engagement_patient_days_first_day"`);
    await q(`DROP POLICY "engagement_patient_days_tenant_isolation" ON "engagement_patient_days"`);
    await q(`ALTER TABLE "engagement_patient_days" RENAME TO "engagement_patient_days_unpartitioned"`);

    await q(`CREATE TABLE "engagement_patient_days" (LIKE "engagement_patient_days_unpartitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      PARTITION BY LIST ("organization_id")`);
    await keysAndPolicy(q);

    await q(
      `CREATE TABLE "${DEFAULT_PARTITION}" (LIKE "engagement_patient_days" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 50)`,
    );
    await q(`REVOKE ALL ON "${DEFAULT_PARTITION}" FROM patient_journey_app`);
    await q(`ALTER TABLE "${DEFAULT_PARTITION}" ENABLE ROW LEVEL SECURITY`);
    await q(`ALTER TABLE "engagement_patient_days" ATTACH PARTITION "${DEFAULT_PARTITION}" DEFAULT`);
    await q(`INSERT INTO "${DEFAULT_PARTITION}" SELECT * FROM "engagement_patient_days_unpartitioned"`);
    await q(`DROP TABLE "engagement_patient_days_unpartitioned"`);
  }

  /** Back to one table: every partition's rows into it (one transaction), the keys and the policy as before. */
  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await q(`DROP POLICY "engagement_patient_days_tenant_isolation" ON "engagement_patient_days"`);
    await q(`ALTER TABLE "engagement_patient_days" RENAME TO "engagement_patient_days_partitioned"`);
    await q(`ALTER TABLE "engagement_patient_days_partitioned" DROP CONSTRAINT "fk_engagement_patient_days_organization_id"`);
    await q(`ALTER TABLE "engagement_patient_days_partitioned" DROP CONSTRAINT "pk_engagement_patient_days"`);
    await q(`DROP INDEX "public"."idx_engagement_patient_days_first_day"`);
    await q(`CREATE TABLE "engagement_patient_days" (LIKE "engagement_patient_days_partitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      WITH (fillfactor = 50)`);
    await q(`INSERT INTO "engagement_patient_days" SELECT * FROM "engagement_patient_days_partitioned"`);
    await q(`DROP TABLE "engagement_patient_days_partitioned"`); // with its partitions
    await keysAndPolicy(q);
  }
}
