import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = (SELECT nullif(current_setting('app.organization_id', true), '')::uuid)`;
const DEFAULT_PARTITION = 'reengagement_opportunities_default';

/** The secondary indexes of `reengagement_opportunities` (the fourth is the primary key's). */
const INDEXES: [name: string, definition: string][] = [
  ['idx_reengagement_opportunities_priority_expected_return', `("organization_id", "priority", "expected_return_cents", "patient_id")`],
  ['idx_reengagement_opportunities_type_expected_return', `("organization_id", "opportunity_type", "expected_return_cents", "patient_id")`],
  ['idx_reengagement_opportunities_expected_return', `("organization_id", "expected_return_cents", "patient_id")`],
];

/**
 * `reengagement_opportunities` partitioned by organization (LIST on organization_id), as `patient_metrics` is
 * (1795566900000, 1795567900000): a DEFAULT partition, `reengagement_opportunities_default`, for every organization
 * without a partition of its own, which is every organization until the opportunities refresh of a large one (from
 * REBUILD_MIN_PATIENTS live patients) builds its rows into a fresh table and swaps it in as its partition
 * (src/opportunities/opportunities-partition-swap.ts; docs/performance.md, "The opportunities refresh by build and
 * swap"). The small organizations all stay in the default partition: no relation per clinic.
 *
 * - Primary key (organization_id, patient_id): a partitioned table's unique keys must include the partition key. The
 *   patient foreign key becomes (organization_id, patient_id) → patients(organization_id, id), like the metrics':
 *   a patient's delete then finds its opportunity by the primary key in its organization's partition.
 * - The same index, check, policy and grant names on the parent; partitions: row-level security enabled without a
 *   policy and no grant to the runtime role (the app reaches them through the parent only); fillfactor 50 on the
 *   default partition (1795567950000: its rows are updated in place by the refresh).
 * - The existing rows are moved into the default partition in one INSERT (the migration's transaction; the table is
 *   locked meanwhile): the large organizations move out at their next refresh.
 */
export class OpportunitiesPartitions1795568400000 implements MigrationInterface {
  name = 'OpportunitiesPartitions1795568400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await q(`ALTER TABLE "reengagement_opportunities" DROP CONSTRAINT "fk_reengagement_opportunities_patient_id"`);
    await q(`ALTER TABLE "reengagement_opportunities" DROP CONSTRAINT "fk_reengagement_opportunities_organization_id"`);
    await q(`ALTER TABLE "reengagement_opportunities" DROP CONSTRAINT "pk_reengagement_opportunities"`);
    for (const [name] of INDEXES) await q(`DROP INDEX "public"."${name}"`);
    await q(`DROP POLICY "reengagement_opportunities_tenant_isolation" ON "reengagement_opportunities"`);
    await q(`ALTER TABLE "reengagement_opportunities" RENAME TO "reengagement_opportunities_unpartitioned"`);

    await q(`CREATE TABLE "reengagement_opportunities" (LIKE "reengagement_opportunities_unpartitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      PARTITION BY LIST ("organization_id")`);
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "pk_reengagement_opportunities" PRIMARY KEY ("organization_id", "patient_id")`);
    for (const [name, definition] of INDEXES) await q(`CREATE INDEX "${name}" ON "reengagement_opportunities" ${definition}`);
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_organization_id" FOREIGN KEY ("organization_id")
      REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_patient_id" FOREIGN KEY ("organization_id", "patient_id")
      REFERENCES "patients"("organization_id", "id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "reengagement_opportunities" ENABLE ROW LEVEL SECURITY`);
    await q(`CREATE POLICY "reengagement_opportunities_tenant_isolation" ON "reengagement_opportunities" TO patient_journey_app
      USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    await q(`REVOKE ALL ON "reengagement_opportunities" FROM patient_journey_app`);
    await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON "reengagement_opportunities" TO patient_journey_app`);

    await q(`CREATE TABLE "${DEFAULT_PARTITION}" (LIKE "reengagement_opportunities" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 50)`);
    await q(`REVOKE ALL ON "${DEFAULT_PARTITION}" FROM patient_journey_app`);
    await q(`ALTER TABLE "${DEFAULT_PARTITION}" ENABLE ROW LEVEL SECURITY`);
    await q(`ALTER TABLE "reengagement_opportunities" ATTACH PARTITION "${DEFAULT_PARTITION}" DEFAULT`);
    await q(`INSERT INTO "${DEFAULT_PARTITION}" SELECT * FROM "reengagement_opportunities_unpartitioned"`);
    await q(`DROP TABLE "reengagement_opportunities_unpartitioned"`);
  }

  /** Back to one table: every partition's rows into it (one transaction), the keys and the policy as before. */
  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await q(`DROP POLICY "reengagement_opportunities_tenant_isolation" ON "reengagement_opportunities"`);
    await q(`ALTER TABLE "reengagement_opportunities" RENAME TO "reengagement_opportunities_partitioned"`);
    await q(`ALTER TABLE "reengagement_opportunities_partitioned" DROP CONSTRAINT "fk_reengagement_opportunities_patient_id"`);
    await q(`ALTER TABLE "reengagement_opportunities_partitioned" DROP CONSTRAINT "fk_reengagement_opportunities_organization_id"`);
    await q(`ALTER TABLE "reengagement_opportunities_partitioned" DROP CONSTRAINT "pk_reengagement_opportunities"`);
    for (const [name] of INDEXES) await q(`DROP INDEX "public"."${name}"`);
    await q(`CREATE TABLE "reengagement_opportunities" (LIKE "reengagement_opportunities_partitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      WITH (fillfactor = 50)`);
    await q(`INSERT INTO "reengagement_opportunities" SELECT * FROM "reengagement_opportunities_partitioned"`);
    await q(`DROP TABLE "reengagement_opportunities_partitioned"`); // with its partitions
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "pk_reengagement_opportunities" PRIMARY KEY ("patient_id")`);
    for (const [name, definition] of INDEXES) await q(`CREATE INDEX "${name}" ON "reengagement_opportunities" ${definition}`);
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_patient_id" FOREIGN KEY ("patient_id")
      REFERENCES "patients"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "reengagement_opportunities" ADD CONSTRAINT "fk_reengagement_opportunities_organization_id" FOREIGN KEY ("organization_id")
      REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "reengagement_opportunities" ENABLE ROW LEVEL SECURITY`);
    await q(`CREATE POLICY "reengagement_opportunities_tenant_isolation" ON "reengagement_opportunities" TO patient_journey_app
      USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON "reengagement_opportunities" TO patient_journey_app`);
  }
}
