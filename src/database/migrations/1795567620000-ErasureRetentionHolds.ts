import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;
const TENANT_TABLES = ['erasure_receipts', 'erasure_tombstones', 'legal_holds', 'retention_policies'];

/**
 * Erasure, legal holds and retention (issue 17; docs/privacy.md). Plain SQL tables, not entities (read and written by
 * the repositories of src/privacy/erasure and src/privacy/retention), none with a `patient_id` column: an erasure
 * deletes every row of the patient from every table that has one, and these must outlive it.
 *
 * - `erasure_receipts`: one per erased patient (the receipt an erasure answers, and answers again): the patient's id,
 *   the basis, the counts per kind; the free-text reason encrypted like PHI (it may name the person).
 * - `erasure_tombstones`: a keyed hash (HMAC-SHA256, a key per organization) of each erased patient's source and
 *   external id, nothing readable; ingestion rejects a record that hashes to one (`erased`).
 * - `legal_holds`: holds on some patients (`patient_ids`) or on all (`all_patients`), until released or `until`.
 * - `retention_policies`: one per organization (absent: keep patients, 6 years of audit).
 * - `audit_retirements`: each retirement of the oldest audit events (archived first to an encrypted file of the file
 *   store): the last retired sequence number and its hash, from which the chain's verification starts. Written only by
 *   `audit_retire()` (SECURITY DEFINER), which deletes a prefix of one organization's chain: the one way past the
 *   append-only trigger, which now lets a DELETE through only inside that function.
 * - `referrals.referred_patient_id` becomes nullable: a referral made by another patient stays when the referred
 *   patient is erased, without their identity.
 */
export class ErasureRetentionHolds1795567620000 implements MigrationInterface {
  name = 'ErasureRetentionHolds1795567620000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "erasure_receipts" (
      "organization_id" uuid NOT NULL,
      "id" uuid NOT NULL,
      "erased_patient_id" uuid NOT NULL,
      "basis" character varying(16) NOT NULL,
      "reason_enc" text,
      "erased_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "records_deleted" jsonb NOT NULL,
      "records_unlinked" jsonb NOT NULL DEFAULT '{}',
      "erased_by" character varying(200) NOT NULL,
      CONSTRAINT "pk_erasure_receipts" PRIMARY KEY ("organization_id", "id"),
      CONSTRAINT "uq_erasure_receipts_patient" UNIQUE ("organization_id", "erased_patient_id"),
      CONSTRAINT "ck_erasure_receipts_basis" CHECK (basis IN ('patient_request', 'retention', 'other')),
      CONSTRAINT "fk_erasure_receipts_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
    )`);
    await q.query(`CREATE TABLE "erasure_tombstones" (
      "organization_id" uuid NOT NULL,
      "key_hash" bytea NOT NULL,
      "erased_on" date NOT NULL,
      CONSTRAINT "pk_erasure_tombstones" PRIMARY KEY ("organization_id", "key_hash"),
      CONSTRAINT "fk_erasure_tombstones_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
    )`);
    await q.query(`CREATE TABLE "legal_holds" (
      "organization_id" uuid NOT NULL,
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "all_patients" boolean NOT NULL DEFAULT false,
      "patient_ids" uuid array NOT NULL DEFAULT '{}',
      "reason_enc" text NOT NULL,
      "until" TIMESTAMP WITH TIME ZONE,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "created_by" character varying(200) NOT NULL,
      "released_at" TIMESTAMP WITH TIME ZONE,
      "released_by" character varying(200),
      CONSTRAINT "pk_legal_holds" PRIMARY KEY ("organization_id", "id"),
      CONSTRAINT "ck_legal_holds_scope" CHECK (all_patients OR cardinality(patient_ids) > 0),
      CONSTRAINT "fk_legal_holds_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
    )`);
    await q.query(
      `CREATE INDEX "idx_legal_holds_organization_id_active" ON "legal_holds" ("organization_id", "created_at") WHERE released_at IS NULL`,
    );
    await q.query(`CREATE TABLE "retention_policies" (
      "organization_id" uuid NOT NULL,
      "inactive_patient_years" numeric(5,2),
      "audit_years" numeric(5,2) NOT NULL DEFAULT 6,
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "updated_by" character varying(200) NOT NULL,
      CONSTRAINT "pk_retention_policies" PRIMARY KEY ("organization_id"),
      CONSTRAINT "ck_retention_policies_audit_years" CHECK (audit_years >= 6),
      CONSTRAINT "ck_retention_policies_inactive_patient_years" CHECK (inactive_patient_years IS NULL OR inactive_patient_years > 0),
      CONSTRAINT "fk_retention_policies_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
    )`);
    for (const table of TENANT_TABLES) {
      await q.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await q.query(
        `CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
      );
      await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON "${table}" TO patient_journey_app`);
    }
    // Receipts and tombstones are kept: the app may add them, never change or remove them.
    await q.query(`REVOKE UPDATE, DELETE ON "erasure_receipts", "erasure_tombstones" FROM patient_journey_app`);

    await q.query(`ALTER TABLE "referrals" ALTER COLUMN "referred_patient_id" DROP NOT NULL`);

    // Audit retirement.
    await q.query(`CREATE TABLE "audit_retirements" (
      "organization_id" uuid NOT NULL,
      "last_seq" bigint NOT NULL,
      "last_hash" bytea NOT NULL,
      "first_seq" bigint NOT NULL,
      "events" bigint NOT NULL,
      "before" TIMESTAMP WITH TIME ZONE NOT NULL,
      "archive_file_id" uuid,
      "retired_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "pk_audit_retirements" PRIMARY KEY ("organization_id", "last_seq")
    )`);
    await q.query(`REVOKE ALL ON TABLE "audit_retirements" FROM patient_journey_app`);
    await q.query(`GRANT SELECT ON TABLE "audit_retirements" TO patient_journey_app`);
    await q.query(`ALTER TABLE "audit_retirements" ENABLE ROW LEVEL SECURITY`);
    await q.query(
      `CREATE POLICY "audit_retirements_tenant" ON "audit_retirements" FOR SELECT TO patient_journey_app USING (${TENANT_PREDICATE})`,
    );

    await q.query(`CREATE OR REPLACE FUNCTION "audit_events_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('app.audit_retiring', true) = OLD.organization_id::text THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$`);

    // Deletes the organization's events up to p_last_seq (a prefix of its chain, every event of it before p_before,
    // which is at least 6 years ago by the database's clock), exactly p_events of them, and records the retirement.
    await q.query(`CREATE FUNCTION "audit_retire"(p_organization_id uuid, p_last_seq bigint, p_events bigint, p_before timestamptz, p_archive_file_id uuid)
      RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_hash bytea;
  v_first bigint;
  v_deleted bigint;
BEGIN
  IF p_organization_id IS DISTINCT FROM nullif(current_setting('app.organization_id', true), '')::uuid THEN
    RAISE EXCEPTION 'audit_retire: only on the organization''s own handle' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_before > now() - interval '6 years' THEN
    RAISE EXCEPTION 'audit_retire: audit events are kept at least 6 years' USING ERRCODE = 'check_violation';
  END IF;
  PERFORM 1 FROM audit_chain_heads WHERE organization_id = p_organization_id FOR UPDATE;
  IF EXISTS (SELECT 1 FROM audit_events WHERE organization_id = p_organization_id AND seq <= p_last_seq AND occurred_at >= p_before) THEN
    RAISE EXCEPTION 'audit_retire: an event up to that sequence is not older than the cutoff' USING ERRCODE = 'check_violation';
  END IF;
  SELECT hash INTO v_hash FROM audit_events WHERE organization_id = p_organization_id AND seq = p_last_seq;
  IF v_hash IS NULL THEN
    RAISE EXCEPTION 'audit_retire: no event with that sequence number' USING ERRCODE = 'no_data_found';
  END IF;
  SELECT coalesce(max(last_seq), 0) + 1 INTO v_first FROM audit_retirements WHERE organization_id = p_organization_id;
  PERFORM set_config('app.audit_retiring', p_organization_id::text, true);
  DELETE FROM audit_events WHERE organization_id = p_organization_id AND seq <= p_last_seq;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  PERFORM set_config('app.audit_retiring', '', true);
  IF v_deleted <> p_events THEN
    RAISE EXCEPTION 'audit_retire: % events to retire, % archived', v_deleted, p_events USING ERRCODE = 'check_violation';
  END IF;
  INSERT INTO audit_retirements (organization_id, last_seq, last_hash, first_seq, events, "before", archive_file_id)
    VALUES (p_organization_id, p_last_seq, v_hash, v_first, v_deleted, p_before, p_archive_file_id);
  RETURN v_deleted;
END $$`);
    await q.query(`REVOKE ALL ON FUNCTION "audit_retire"(uuid, bigint, bigint, timestamptz, uuid) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION "audit_retire"(uuid, bigint, bigint, timestamptz, uuid) TO patient_journey_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "audit_retire"(uuid, bigint, bigint, timestamptz, uuid)`);
    await q.query(`CREATE OR REPLACE FUNCTION "audit_events_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$`);
    await q.query(`DROP TABLE "audit_retirements"`);
    await q.query(`DELETE FROM "referrals" WHERE "referred_patient_id" IS NULL`);
    await q.query(`ALTER TABLE "referrals" ALTER COLUMN "referred_patient_id" SET NOT NULL`);
    for (const table of [...TENANT_TABLES].reverse()) await q.query(`DROP TABLE "${table}"`);
  }
}
