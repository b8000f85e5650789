import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/**
 * Maintained patient counts, so that the list's `summary`/`total_count` and the risk summary never count a million
 * rows per request (a `GROUP BY` over 1M `patient_metrics` rows takes about a second on the reference machine).
 *
 * `patient_metric_counts` holds signed deltas per (organization, status, risk level, risk trend): statement-level
 * triggers with transition tables on `patient_metrics` append one row per group touched by each INSERT/UPDATE/DELETE
 * (COPY and INSERT ... ON CONFLICT included), so a recompute of 50,000 rows adds at most 27 rows. Insert-only writes
 * take no row locks: concurrent ingestion batches and recomputes never wait on each other or deadlock here.
 * Readers sum the rows of one organization (an index range) and compact them from time to time
 * (`patient_metric_counts_compact`), which is safe against concurrent writers: it only replaces the rows it deleted.
 *
 * Soft-deleting a patient (`patients.deleted_at` set) deletes its `patient_metrics` row (trigger below), so counts,
 * lists and offsets all leave it out at once; the scoring recompute does not recreate rows for deleted patients.
 *
 * Not a TypeORM entity: it is read and written with SQL only (src/patients/patient-counts.repository.ts), and the
 * schema-drift check ignores tables without an entity. No foreign key to `organizations`: the delete trigger fires
 * during an organization's cascading delete and must not fail it; orphaned count rows of a deleted organization are
 * inert (organization ids are never reused).
 */
export class PatientMetricCounts1795566600000 implements MigrationInterface {
  name = 'PatientMetricCounts1795566600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "patient_metric_counts" (
      "id" bigint GENERATED ALWAYS AS IDENTITY,
      "organization_id" uuid NOT NULL,
      "status" character varying(16) NOT NULL,
      "risk_level" character varying(8) NOT NULL,
      "risk_trend" character varying(10) NOT NULL,
      "patients" bigint NOT NULL,
      "last_computed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "pk_patient_metric_counts" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_patient_metric_counts_organization_id" ON "patient_metric_counts" ("organization_id")`);
    await queryRunner.query(`ALTER TABLE "patient_metric_counts" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY "patient_metric_counts_tenant_isolation" ON "patient_metric_counts" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
    );

    // SECURITY DEFINER: the delta rows are written whatever the writer's organization setting (CLIs run as the owner,
    // the app as the runtime role under row-level security); search_path pinned as SECURITY DEFINER requires.
    await queryRunner.query(`CREATE FUNCTION patient_metric_counts_on_insert() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
        SELECT organization_id, status, risk_level, risk_trend, count(*), max(computed_at)
          FROM pmc_new GROUP BY organization_id, status, risk_level, risk_trend;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE FUNCTION patient_metric_counts_on_update() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
        SELECT organization_id, status, risk_level, risk_trend, sum(d), max(computed_at)
          FROM (SELECT organization_id, status, risk_level, risk_trend, 1 AS d, computed_at FROM pmc_new
                UNION ALL
                SELECT organization_id, status, risk_level, risk_trend, -1 AS d, NULL::timestamptz FROM pmc_old) x
          GROUP BY organization_id, status, risk_level, risk_trend
          HAVING sum(d) <> 0 OR max(computed_at) IS NOT NULL;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE FUNCTION patient_metric_counts_on_delete() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
        SELECT organization_id, status, risk_level, risk_trend, -count(*), NULL
          FROM pmc_old GROUP BY organization_id, status, risk_level, risk_trend;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "trg_patient_metric_counts_insert" AFTER INSERT ON "patient_metrics"
      REFERENCING NEW TABLE AS pmc_new FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_insert()`);
    await queryRunner.query(`CREATE TRIGGER "trg_patient_metric_counts_update" AFTER UPDATE ON "patient_metrics"
      REFERENCING OLD TABLE AS pmc_old NEW TABLE AS pmc_new FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_update()`);
    await queryRunner.query(`CREATE TRIGGER "trg_patient_metric_counts_delete" AFTER DELETE ON "patient_metrics"
      REFERENCING OLD TABLE AS pmc_old FOR EACH STATEMENT EXECUTE FUNCTION patient_metric_counts_on_delete()`);

    // A soft-deleted patient leaves the lists and the counts at once.
    await queryRunner.query(`CREATE FUNCTION patients_soft_delete_metrics() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        DELETE FROM patient_metrics m
          USING pd_new n JOIN pd_old o ON o.id = n.id
          WHERE m.patient_id = n.id AND n.deleted_at IS NOT NULL AND o.deleted_at IS NULL;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "trg_patients_soft_delete_metrics" AFTER UPDATE ON "patients"
      REFERENCING OLD TABLE AS pd_old NEW TABLE AS pd_new FOR EACH STATEMENT EXECUTE FUNCTION patients_soft_delete_metrics()`);

    // Folds an organization's delta rows into one row per group. Concurrent writers only append; concurrent
    // compactions each replace exactly the rows they deleted.
    await queryRunner.query(`CREATE FUNCTION patient_metric_counts_compact(org uuid) RETURNS void
      LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        WITH gone AS (DELETE FROM patient_metric_counts WHERE organization_id = org RETURNING *)
        INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
        SELECT organization_id, status, risk_level, risk_trend, sum(patients), max(last_computed_at)
          FROM gone GROUP BY organization_id, status, risk_level, risk_trend
      $$`);

    // Organizations that already have metrics (e.g. seeded before this migration).
    await queryRunner.query(`INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
      SELECT m.organization_id, m.status, m.risk_level, m.risk_trend, count(*), max(m.computed_at)
        FROM patient_metrics m
        WHERE NOT EXISTS (SELECT 1 FROM patients p WHERE p.id = m.patient_id AND p.deleted_at IS NOT NULL)
        GROUP BY m.organization_id, m.status, m.risk_level, m.risk_trend`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_patients_soft_delete_metrics" ON "patients"`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_patient_metric_counts_delete" ON "patient_metrics"`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_patient_metric_counts_update" ON "patient_metrics"`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_patient_metric_counts_insert" ON "patient_metrics"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patients_soft_delete_metrics()`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patient_metric_counts_compact(uuid)`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patient_metric_counts_on_delete()`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patient_metric_counts_on_update()`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patient_metric_counts_on_insert()`);
    await queryRunner.query(`DROP TABLE IF EXISTS "patient_metric_counts"`);
  }
}
