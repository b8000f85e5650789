import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/** Source tables whose rows feed a patient's kept features, with the column naming the patient. */
const SOURCES: readonly [table: string, patientColumn: string][] = [
  ['appointments', 'patient_id'],
  ['communications', 'patient_id'],
  ['payments', 'patient_id'],
  ['survey_responses', 'patient_id'],
  ['referrals', 'referrer_patient_id'],
  ['treatment_plans', 'patient_id'],
];

/**
 * `patient_features`: each patient's features as the organization-wide recompute last read them from the records,
 * with the instant they are as of (`computed_for`) and the instant they stop being exact by the clock alone
 * (`valid_until`: a dated row passing from the future, an engagement event leaving a decline window, a plan under
 * way; null: never). The next run rolls them forward (recency-weighted sums × exp(−λ·Δt)) instead of reading the
 * records again: at a million patients about one in eight needs a fresh read the next day (docs/scoring.md,
 * "Kept features").
 *
 * A change to a patient's records makes their kept row a tombstone (`computed_for` null), from statement-level
 * triggers with transition tables on the six source tables (COPY and INSERT ... ON CONFLICT included). The
 * tombstone is written even when the patient had no kept row, with the writing transaction's id (`written_xid`): a
 * recompute that read the patient before that change commits its row only over rows written before its own
 * snapshot (`pg_visible_in_snapshot`), so features read without the change never overwrite its tombstone.
 * A bulk load of new patients (the seed) sets `app.bulk_load` to skip the triggers: nothing was kept for them.
 *
 * Not a TypeORM entity (written and read with SQL only, src/scoring/features.query.ts). No foreign keys: the
 * triggers fire during a patient's or an organization's cascading delete and must not fail it; a patient's hard
 * delete removes their row (trigger on `patients`), an organization's leaves inert rows (ids are never reused).
 * Row-level security with the tenant policy, as every table with an organization_id (the runtime role has the
 * schema's default grants); only the organization-wide recompute (as the owner) and the SECURITY DEFINER triggers
 * use it.
 */
export class KeptPatientFeatures1795566805000 implements MigrationInterface {
  name = 'KeptPatientFeatures1795566805000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "patient_features" (
      "organization_id" uuid NOT NULL,
      "patient_id" uuid NOT NULL,
      "computed_for" TIMESTAMP WITH TIME ZONE,
      "valid_until" TIMESTAMP WITH TIME ZONE,
      "settings_key" text,
      "preferred_channel" character varying(16),
      "written_xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
      "last_engagement_at" double precision,
      "engagements_recent" integer,
      "engagements_prior" integer,
      "next_appointment_at" double precision,
      "first_visit_at" double precision,
      "last_visit_at" double precision,
      "completed_visits" integer,
      "visit_value_cents" double precision,
      "decayed_visits" double precision,
      "decayed_no_shows" double precision,
      "decayed_cancellations" double precision,
      "recent_appointments" integer,
      "recent_no_shows" integer,
      "recent_cancellations" integer,
      "decayed_outreach" double precision,
      "decayed_replies" double precision,
      "avg_reply_hours" double precision,
      "preferred_channel_outreach" double precision,
      "preferred_channel_replies" double precision,
      "last_contact_at" double precision,
      "net_revenue_cents" double precision,
      "decayed_failed_payments" double precision,
      "overdue_payments" integer,
      "weighted_satisfaction" double precision,
      "complaints" integer,
      "decayed_complaints" double precision,
      "referrals_made" integer,
      "active_plan_remaining_value_cents" double precision,
      "active_plan_sessions_behind" double precision,
      "abandoned_plans" integer,
      "plan_sessions_due" double precision,
      "plan_sessions_done" double precision,
      CONSTRAINT "pk_patient_features" PRIMARY KEY ("organization_id", "patient_id"))
      WITH (fillfactor = 85)`);
    await queryRunner.query(`ALTER TABLE "patient_features" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY "patient_features_tenant_isolation" ON "patient_features" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
    );

    // SECURITY DEFINER: written whatever the writer's role (the app's runtime role under row-level security, the
    // owner in the CLIs); search_path pinned as SECURITY DEFINER requires. TG_ARGV[0]: the patient column.
    // Ordered by patient, so that two writers touching the same patients lock their rows in the same order.
    await queryRunner.query(`CREATE FUNCTION patient_features_forget() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        IF current_setting('app.bulk_load', true) = 'on' THEN RETURN NULL; END IF;
        IF TG_OP <> 'DELETE' THEN
          EXECUTE format('INSERT INTO patient_features AS pf (organization_id, patient_id)
            SELECT DISTINCT organization_id, %1$I FROM pf_new WHERE %1$I IS NOT NULL ORDER BY 1, 2
            ON CONFLICT (organization_id, patient_id) DO UPDATE SET computed_for = NULL, written_xid = pg_current_xact_id()', TG_ARGV[0]);
        END IF;
        IF TG_OP <> 'INSERT' THEN
          EXECUTE format('INSERT INTO patient_features AS pf (organization_id, patient_id)
            SELECT DISTINCT organization_id, %1$I FROM pf_old WHERE %1$I IS NOT NULL ORDER BY 1, 2
            ON CONFLICT (organization_id, patient_id) DO UPDATE SET computed_for = NULL, written_xid = pg_current_xact_id()', TG_ARGV[0]);
        END IF;
        RETURN NULL;
      END $$`);
    for (const [table, column] of SOURCES) {
      await queryRunner.query(`CREATE TRIGGER "trg_${table}_forget_features_insert" AFTER INSERT ON "${table}"
        REFERENCING NEW TABLE AS pf_new FOR EACH STATEMENT EXECUTE FUNCTION patient_features_forget('${column}')`);
      await queryRunner.query(`CREATE TRIGGER "trg_${table}_forget_features_update" AFTER UPDATE ON "${table}"
        REFERENCING OLD TABLE AS pf_old NEW TABLE AS pf_new FOR EACH STATEMENT EXECUTE FUNCTION patient_features_forget('${column}')`);
      await queryRunner.query(`CREATE TRIGGER "trg_${table}_forget_features_delete" AFTER DELETE ON "${table}"
        REFERENCING OLD TABLE AS pf_old FOR EACH STATEMENT EXECUTE FUNCTION patient_features_forget('${column}')`);
    }
    // A patient's hard delete (erasure) removes their kept row; statement triggers fire after the cascades' own.
    await queryRunner.query(`CREATE FUNCTION patients_delete_features() RETURNS trigger
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      BEGIN
        DELETE FROM patient_features f USING pd_old o WHERE f.organization_id = o.organization_id AND f.patient_id = o.id;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER "trg_patients_delete_features" AFTER DELETE ON "patients"
      REFERENCING OLD TABLE AS pd_old FOR EACH STATEMENT EXECUTE FUNCTION patients_delete_features()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_patients_delete_features" ON "patients"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS patients_delete_features()`);
    for (const [table] of SOURCES) {
      for (const op of ['insert', 'update', 'delete']) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS "trg_${table}_forget_features_${op}" ON "${table}"`);
      }
    }
    await queryRunner.query(`DROP FUNCTION IF EXISTS patient_features_forget()`);
    await queryRunner.query(`DROP TABLE IF EXISTS "patient_features"`);
  }
}
