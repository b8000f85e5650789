import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The HIPAA audit trail (issue 8; docs/audit.md). Not a TypeORM entity: a table partitioned by month is written
 * and read with plain SQL in src/audit/trail/trail.repository.ts, so the schema-drift check does not see it.
 *
 * - `audit_events`: one row per request that reads or changes patient data, or is denied on such a route.
 *   Partitioned by month of `occurred_at` (UTC); a default partition catches anything outside the ranges created
 *   ahead, so an event is never refused for want of a partition.
 * - Tamper evidence: `hash = sha256(prev_hash || int8send(seq) || content_hash)`, one chain per organization.
 *   `content_hash` is computed by the application over a canonical serialization of the row's columns
 *   (src/audit/trail/hash-chain.ts) and checked again by the verifier; `audit_chain_heads` holds each chain's last
 *   sequence number and hash, and its row lock serializes appends per organization.
 * - Append-only: the runtime role may only SELECT the table (through row-level security) and append through
 *   `audit_append()`, a SECURITY DEFINER function; INSERT, UPDATE, DELETE and TRUNCATE are revoked, on the parent
 *   and on every partition, and triggers refuse UPDATE, DELETE and TRUNCATE for everybody else too.
 */
export class AuditTrail1795566500000 implements MigrationInterface {
  name = 'AuditTrail1795566500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "audit_events" (
      "organization_id" uuid NOT NULL,
      "seq" bigint NOT NULL,
      "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      "id" uuid NOT NULL,
      "actor_type" character varying(16),
      "actor_id" uuid,
      "actor_role" character varying(16),
      "action" character varying(16) NOT NULL,
      "resource" character varying(64) NOT NULL,
      "method" character varying(10) NOT NULL,
      "route" character varying(300) NOT NULL,
      "patient_ids" uuid array NOT NULL DEFAULT '{}',
      "query" jsonb NOT NULL DEFAULT '{}',
      "outcome" character varying(16) NOT NULL,
      "status_code" smallint NOT NULL,
      "request_id" character varying(128),
      "ip" character varying(64),
      "user_agent" character varying(512),
      "prev_hash" bytea NOT NULL,
      "hash" bytea NOT NULL,
      CONSTRAINT "pk_audit_events" PRIMARY KEY ("organization_id", "seq", "occurred_at"),
      CONSTRAINT "ck_audit_events_action" CHECK (action IN ('read', 'list', 'search', 'export', 'create', 'update', 'delete', 'access_denied')),
      CONSTRAINT "ck_audit_events_outcome" CHECK (outcome IN ('success', 'denied', 'failure')),
      CONSTRAINT "ck_audit_events_actor_type" CHECK (actor_type IN ('user', 'api_key'))
    ) PARTITION BY RANGE ("occurred_at")`);
    // "Who saw this patient's record": a GIN index on the patient ids (patient ids are unique across organizations).
    await q.query(`CREATE INDEX "idx_audit_events_patient_ids" ON "audit_events" USING gin ("patient_ids")`);
    await q.query(`CREATE INDEX "idx_audit_events_organization_id_actor_id_seq" ON "audit_events" ("organization_id", "actor_id", "seq")`);
    await q.query(`CREATE TABLE "audit_events_default" PARTITION OF "audit_events" DEFAULT`);

    await q.query(`CREATE TABLE "audit_chain_heads" (
      "organization_id" uuid NOT NULL,
      "last_seq" bigint NOT NULL,
      "last_hash" bytea NOT NULL,
      "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "pk_audit_chain_heads" PRIMARY KEY ("organization_id")
    )`);

    // Append-only, first layer: privileges. The default privileges of RuntimeRole gave the app everything.
    await q.query(`REVOKE ALL ON TABLE "audit_events", "audit_events_default", "audit_chain_heads" FROM patient_journey_app`);
    await q.query(`GRANT SELECT ON TABLE "audit_events", "audit_chain_heads" TO patient_journey_app`);
    // Each organization reads only its own trail (the app sets app.organization_id per transaction: TenantDb).
    await q.query(`ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY "audit_events_tenant" ON "audit_events" FOR SELECT TO patient_journey_app
      USING (organization_id = nullif(current_setting('app.organization_id', true), '')::uuid)`);
    await q.query(`ALTER TABLE "audit_chain_heads" ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY "audit_chain_heads_tenant" ON "audit_chain_heads" FOR SELECT TO patient_journey_app
      USING (organization_id = nullif(current_setting('app.organization_id', true), '')::uuid)`);

    // Append-only, second layer: triggers that refuse changes whoever asks (a superuser can still disable them,
    // which is what the hash chain is for).
    await q.query(`CREATE FUNCTION "audit_events_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$`);
    await q.query(`CREATE TRIGGER "trg_audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
      FOR EACH ROW EXECUTE FUNCTION "audit_events_refuse_change"()`);
    await q.query(`CREATE TRIGGER "trg_audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
      FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_refuse_change"()`);
    await q.query(`CREATE TRIGGER "trg_audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events_default"
      FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_refuse_change"()`);

    // Monthly partitions, created ahead: here for the current month and the next three, then by the app at start
    // and daily (TrailPartitionsService). Runs as its owner: the app role has no CREATE on the schema.
    await q.query(`CREATE FUNCTION "audit_ensure_partitions"(p_from timestamptz, p_months integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_start timestamptz;
  v_name text;
  v_created integer := 0;
BEGIN
  IF p_months < 0 OR p_months > 120 THEN
    RAISE EXCEPTION 'audit_ensure_partitions: p_months must be 0..120';
  END IF;
  FOR i IN 0..p_months LOOP
    v_start := (date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i)) AT TIME ZONE 'UTC';
    v_name := 'audit_events_' || to_char(v_start AT TIME ZONE 'UTC', 'YYYY_MM');
    IF to_regclass('public.' || v_name) IS NULL THEN
      EXECUTE format('CREATE TABLE public.%I PARTITION OF public.audit_events FOR VALUES FROM (%L) TO (%L)',
        v_name, v_start, v_start + interval '1 month');
      EXECUTE format('REVOKE ALL ON TABLE public.%I FROM patient_journey_app', v_name);
      EXECUTE format('CREATE TRIGGER trg_audit_events_no_truncate BEFORE TRUNCATE ON public.%I
        FOR EACH STATEMENT EXECUTE FUNCTION public.audit_events_refuse_change()', v_name);
      v_created := v_created + 1;
    END IF;
  END LOOP;
  RETURN v_created;
END $$`);
    await q.query(`REVOKE ALL ON FUNCTION "audit_ensure_partitions"(timestamptz, integer) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION "audit_ensure_partitions"(timestamptz, integer) TO patient_journey_app`);
    await q.query(`SELECT "audit_ensure_partitions"(now(), 3)`);

    // The one way in. The row lock on the organization's head serializes its appends (no fork, no gap) and is
    // held only until the caller's transaction commits. An organization id that names no organization (a denied
    // call to a made-up path) is refused with foreign_key_violation; the writer then files the event under the nil
    // UUID, so strangers cannot create chains at will.
    await q.query(`CREATE FUNCTION "audit_append"(
      p_organization_id uuid, p_id uuid, p_occurred_at timestamptz, p_actor_type text, p_actor_id uuid,
      p_actor_role text, p_action text, p_resource text, p_method text, p_route text, p_patient_ids uuid[],
      p_query jsonb, p_outcome text, p_status_code integer, p_request_id text, p_ip text, p_user_agent text,
      p_content_hash bytea
    ) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_seq bigint;
  v_prev bytea;
  v_hash bytea;
BEGIN
  IF length(p_content_hash) <> 32 THEN
    RAISE EXCEPTION 'audit_append: content hash must be 32 bytes';
  END IF;
  IF p_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid
     AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = p_organization_id) THEN
    RAISE EXCEPTION 'audit_append: unknown organization' USING ERRCODE = 'foreign_key_violation';
  END IF;
  INSERT INTO audit_chain_heads (organization_id, last_seq, last_hash)
    VALUES (p_organization_id, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    ON CONFLICT (organization_id) DO NOTHING;
  SELECT last_seq, last_hash INTO v_seq, v_prev FROM audit_chain_heads WHERE organization_id = p_organization_id FOR UPDATE;
  v_seq := v_seq + 1;
  v_hash := sha256(v_prev || int8send(v_seq) || p_content_hash);
  INSERT INTO audit_events (organization_id, seq, occurred_at, id, actor_type, actor_id, actor_role, action, resource,
    method, route, patient_ids, query, outcome, status_code, request_id, ip, user_agent, prev_hash, hash)
  VALUES (p_organization_id, v_seq, p_occurred_at, p_id, p_actor_type, p_actor_id, p_actor_role, p_action, p_resource,
    p_method, p_route, p_patient_ids, p_query, p_outcome, p_status_code, p_request_id, p_ip, p_user_agent, v_prev, v_hash);
  UPDATE audit_chain_heads SET last_seq = v_seq, last_hash = v_hash, updated_at = now() WHERE organization_id = p_organization_id;
  RETURN v_seq;
END $$`);
    await q.query(`REVOKE ALL ON FUNCTION "audit_append"(uuid, uuid, timestamptz, text, uuid, text, text, text, text, text, uuid[], jsonb, text, integer, text, text, text, bytea) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION "audit_append"(uuid, uuid, timestamptz, text, uuid, text, text, text, text, text, uuid[], jsonb, text, integer, text, text, text, bytea) TO patient_journey_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "audit_append"(uuid, uuid, timestamptz, text, uuid, text, text, text, text, text, uuid[], jsonb, text, integer, text, text, text, bytea)`);
    await q.query(`DROP FUNCTION IF EXISTS "audit_ensure_partitions"(timestamptz, integer)`);
    await q.query(`DROP TABLE IF EXISTS "audit_chain_heads"`);
    await q.query(`DROP TABLE IF EXISTS "audit_events"`);
    await q.query(`DROP FUNCTION IF EXISTS "audit_events_refuse_change"()`);
  }
}
