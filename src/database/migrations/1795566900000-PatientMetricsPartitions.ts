import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/** The secondary indexes of `patient_metrics` (the tenth index is the primary key's). */
const INDEXES: [name: string, definition: string][] = [
  ['idx_patient_metrics_stale', `("organization_id", "patient_id") WHERE stale`],
  ['idx_patient_metrics_status_risk_score', `("organization_id", "status", "risk_score", "patient_id")`],
  ['idx_patient_metrics_risk_score', `("organization_id", "risk_score", "patient_id")`],
  ['idx_patient_metrics_status_last_appointment_at', `("organization_id", "status", "last_appointment_at", "patient_id")`],
  ['idx_patient_metrics_last_appointment_at', `("organization_id", "last_appointment_at", "patient_id")`],
  ['idx_patient_metrics_status_ltv_cents', `("organization_id", "status", "ltv_cents", "patient_id")`],
  ['idx_patient_metrics_ltv_cents', `("organization_id", "ltv_cents", "patient_id")`],
  ['idx_patient_metrics_status_sort_name', `("organization_id", "status", "sort_name", "patient_id")`],
  ['idx_patient_metrics_sort_name', `("organization_id", "sort_name", "patient_id")`],
];

const COUNT_TRIGGERS = `
  CREATE TRIGGER "trg_patient_metric_counts_insert" AFTER INSERT ON "patient_metrics"
    REFERENCING NEW TABLE AS pmc_new FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_insert();
  CREATE TRIGGER "trg_patient_metric_counts_update" AFTER UPDATE ON "patient_metrics"
    REFERENCING OLD TABLE AS pmc_old NEW TABLE AS pmc_new FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_update();
  CREATE TRIGGER "trg_patient_metric_counts_delete" AFTER DELETE ON "patient_metrics"
    REFERENCING OLD TABLE AS pmc_old FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_delete()`;

const DROP_COUNT_TRIGGERS = `
  DROP TRIGGER "trg_patient_metric_counts_insert" ON "patient_metrics";
  DROP TRIGGER "trg_patient_metric_counts_update" ON "patient_metrics";
  DROP TRIGGER "trg_patient_metric_counts_delete" ON "patient_metrics"`;

/**
 * `patient_metrics` partitioned by organization (LIST on organization_id, one partition per organization, named
 * `patient_metrics_<id without dashes>`), so that the organization-wide recompute can write an organization's rows
 * into a fresh table without indexes, build its indexes once and swap it in (src/scoring/metrics-rebuild.ts) instead
 * of updating every row under ten indexes (docs/scoring.md, "Organization-wide recompute").
 *
 * - Primary key (organization_id, patient_id): a partitioned table's unique keys must include the partition key.
 *   The patient foreign key becomes (organization_id, patient_id) → patients(organization_id, id), like the record
 *   tables' (1795566300000): a patient's delete then finds its metrics row by the primary key.
 * - The same index, check, foreign key, policy, trigger and grant names on the parent; the count triggers
 *   (statement-level, transition tables) fire on the parent for writes to any partition.
 * - Partitions: fillfactor 50 (1795566790000: a partitioned parent has no storage parameters), row-level security
 *   enabled without a policy and no grants to the runtime role: the app reads and writes through the parent only (its
 *   grants and policy are checked there); a partition read directly by name gives the runtime role nothing.
 * - A new organization gets its partition from an AFTER INSERT trigger on `organizations`
 *   (`patient_metrics_add_partition`): CREATE TABLE, then ATTACH, which takes a SHARE UPDATE EXCLUSIVE lock on the
 *   parent (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE, blocking every reader). No DEFAULT partition:
 *   attaching beside one scans it.
 * - `patient_metrics_rebuild_log`: the patients whose live row a writer touched while a rebuild of their organization
 *   ran (a row trigger the rebuild puts on the live partition, `patient_metrics_log_touched`); the swap takes those
 *   rows over. Not an entity (the drift check ignores it).
 * - The soft-delete trigger of `patients` deletes the metrics row by (organization_id, patient_id).
 *
 * The existing rows are moved in one INSERT with the indexes in place (65 s for the million-patient clinic on the
 * reference machine, inside the migration's transaction: the table is locked meanwhile). A deleted organization's partition is left, empty (ids
 * are never reused); the seed drops it when it replaces an organization.
 */
export class PatientMetricsPartitions1795566900000 implements MigrationInterface {
  name = 'PatientMetricsPartitions1795566900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    // The old table keeps its rows until they are moved; its index and constraint names are freed first.
    await q(DROP_COUNT_TRIGGERS);
    await q(`ALTER TABLE "patient_metrics" DROP CONSTRAINT "pk_patient_metrics"`);
    for (const [name] of INDEXES) await q(`DROP INDEX "public"."${name}"`);
    await q(`ALTER TABLE "patient_metrics" RENAME TO "patient_metrics_unpartitioned"`);

    await q(`CREATE TABLE "patient_metrics" (LIKE "patient_metrics_unpartitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      PARTITION BY LIST ("organization_id")`);
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "pk_patient_metrics" PRIMARY KEY ("organization_id", "patient_id")`);
    for (const [name, definition] of INDEXES) await q(`CREATE INDEX "${name}" ON "patient_metrics" ${definition}`);
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "fk_patient_metrics_organization_id" FOREIGN KEY ("organization_id")
      REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "fk_patient_metrics_patient_id" FOREIGN KEY ("organization_id", "patient_id")
      REFERENCES "patients"("organization_id", "id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "patient_metrics" ENABLE ROW LEVEL SECURITY`);
    await q(`CREATE POLICY "patient_metrics_tenant_isolation" ON "patient_metrics" TO patient_journey_app
      USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON "patient_metrics" TO patient_journey_app`);

    // SECURITY DEFINER: the partition is created and owned by the owner whoever inserts the organization.
    await q(`CREATE FUNCTION patient_metrics_add_partition(org uuid) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        part text := 'patient_metrics_' || replace(org::text, '-', '');
      BEGIN
        IF to_regclass(part) IS NOT NULL THEN RETURN; END IF;
        EXECUTE format('CREATE TABLE %I (LIKE patient_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 50)', part);
        EXECUTE format('REVOKE ALL ON %I FROM patient_journey_app', part);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE patient_metrics ATTACH PARTITION %I FOR VALUES IN (%L)', part, org);
      END $$`);
    await q(`CREATE FUNCTION organizations_add_metrics_partition() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        PERFORM patient_metrics_add_partition(NEW.id);
        RETURN NULL;
      END $$`);
    await q(`CREATE TRIGGER "trg_organizations_metrics_partition" AFTER INSERT ON "organizations"
      FOR EACH ROW EXECUTE FUNCTION organizations_add_metrics_partition()`);

    await q(`SELECT patient_metrics_add_partition(id) FROM organizations`);
    await q(`INSERT INTO "patient_metrics" SELECT * FROM "patient_metrics_unpartitioned"`);
    await q(`DROP TABLE "patient_metrics_unpartitioned"`);
    await q(COUNT_TRIGGERS);

    await q(`CREATE OR REPLACE FUNCTION patients_soft_delete_metrics() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        DELETE FROM patient_metrics m
          USING pd_new n JOIN pd_old o ON o.id = n.id
          WHERE m.organization_id = n.organization_id AND m.patient_id = n.id AND n.deleted_at IS NOT NULL AND o.deleted_at IS NULL;
        RETURN NULL;
      END $$`);

    await q(`CREATE TABLE "patient_metrics_rebuild_log" (
      "organization_id" uuid NOT NULL,
      "patient_id" uuid NOT NULL,
      "logged_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp())`);
    await q(`CREATE INDEX "idx_patient_metrics_rebuild_log_organization_id" ON "patient_metrics_rebuild_log" ("organization_id")`);
    await q(`ALTER TABLE "patient_metrics_rebuild_log" ENABLE ROW LEVEL SECURITY`);
    await q(`CREATE POLICY "patient_metrics_rebuild_log_tenant_isolation" ON "patient_metrics_rebuild_log" TO patient_journey_app
      USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    await q(`REVOKE ALL ON "patient_metrics_rebuild_log" FROM patient_journey_app`);
    // A row trigger (a partition's statement triggers do not fire for statements on the parent), SECURITY DEFINER:
    // the runtime role has no grant on the log.
    await q(`CREATE FUNCTION patient_metrics_log_touched() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          INSERT INTO patient_metrics_rebuild_log (organization_id, patient_id) VALUES (OLD.organization_id, OLD.patient_id);
        ELSE
          INSERT INTO patient_metrics_rebuild_log (organization_id, patient_id) VALUES (NEW.organization_id, NEW.patient_id);
        END IF;
        RETURN NULL;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await q(`DROP FUNCTION patient_metrics_log_touched()`);
    await q(`DROP TABLE "patient_metrics_rebuild_log"`);
    await q(`CREATE OR REPLACE FUNCTION patients_soft_delete_metrics() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        DELETE FROM patient_metrics m
          USING pd_new n JOIN pd_old o ON o.id = n.id
          WHERE m.patient_id = n.id AND n.deleted_at IS NOT NULL AND o.deleted_at IS NULL;
        RETURN NULL;
      END $$`);
    await q(`DROP TRIGGER "trg_organizations_metrics_partition" ON "organizations"`);
    await q(`DROP FUNCTION organizations_add_metrics_partition()`);
    await q(`DROP FUNCTION patient_metrics_add_partition(uuid)`);

    await q(DROP_COUNT_TRIGGERS);
    await q(`ALTER TABLE "patient_metrics" RENAME TO "patient_metrics_partitioned"`);
    await q(`ALTER TABLE "patient_metrics_partitioned" DROP CONSTRAINT "pk_patient_metrics"`); // frees the index names
    for (const [name] of INDEXES) await q(`DROP INDEX "public"."${name}"`);
    await q(`CREATE TABLE "patient_metrics" (LIKE "patient_metrics_partitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
      WITH (fillfactor = 50)`);
    await q(`INSERT INTO "patient_metrics" SELECT * FROM "patient_metrics_partitioned"`);
    await q(`DROP TABLE "patient_metrics_partitioned"`); // with its partitions
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "pk_patient_metrics" PRIMARY KEY ("patient_id")`);
    for (const [name, definition] of INDEXES) await q(`CREATE INDEX "${name}" ON "patient_metrics" ${definition}`);
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "fk_patient_metrics_patient_id" FOREIGN KEY ("patient_id")
      REFERENCES "patients"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "patient_metrics" ADD CONSTRAINT "fk_patient_metrics_organization_id" FOREIGN KEY ("organization_id")
      REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await q(`ALTER TABLE "patient_metrics" ENABLE ROW LEVEL SECURITY`);
    await q(`CREATE POLICY "patient_metrics_tenant_isolation" ON "patient_metrics" TO patient_journey_app
      USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    await q(`GRANT SELECT, INSERT, UPDATE, DELETE ON "patient_metrics" TO patient_journey_app`);
    await q(COUNT_TRIGGERS);
  }
}
