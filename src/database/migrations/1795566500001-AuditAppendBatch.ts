import { MigrationInterface, QueryRunner } from 'typeorm';

const SIGNATURE = `uuid, uuid[], timestamptz[], text[], uuid[], text[], text[], text[], text[], text[], text[], text[], text[], integer[], text[], text[], text[], bytea[]`;

/**
 * `audit_append_batch()`: the group-commit form of audit_append() (src/audit/trail/trail-writer.ts gathers the events
 * of one organization that arrive while the previous batch commits). One existence check, one lock and one
 * update of the chain head, and one multi-row INSERT per batch; the hashes are chained in order in between,
 * exactly as audit_append() chains them one by one. Returns the sequence number of the first event; the others
 * follow it without gaps.
 */
export class AuditAppendBatch1795566500001 implements MigrationInterface {
  name = 'AuditAppendBatch1795566500001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION "audit_append_batch"(
      p_organization_id uuid, p_id uuid[], p_occurred_at timestamptz[], p_actor_type text[], p_actor_id uuid[],
      p_actor_role text[], p_action text[], p_resource text[], p_method text[], p_route text[], p_patient_ids text[],
      p_query text[], p_outcome text[], p_status_code integer[], p_request_id text[], p_ip text[], p_user_agent text[],
      p_content_hash bytea[]
    ) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  n integer := coalesce(array_length(p_id, 1), 0);
  v_first bigint;
  v_seq bigint;
  v_prev bytea;
  v_prevs bytea[] := '{}';
  v_hashes bytea[] := '{}';
BEGIN
  IF n = 0 THEN
    RETURN NULL;
  END IF;
  IF p_organization_id <> '00000000-0000-0000-0000-000000000000'::uuid
     AND NOT EXISTS (SELECT 1 FROM organizations WHERE id = p_organization_id) THEN
    RAISE EXCEPTION 'audit_append_batch: unknown organization' USING ERRCODE = 'foreign_key_violation';
  END IF;
  INSERT INTO audit_chain_heads (organization_id, last_seq, last_hash)
    VALUES (p_organization_id, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    ON CONFLICT (organization_id) DO NOTHING;
  SELECT last_seq, last_hash INTO v_seq, v_prev FROM audit_chain_heads WHERE organization_id = p_organization_id FOR UPDATE;
  v_first := v_seq + 1;
  FOR i IN 1..n LOOP
    IF length(p_content_hash[i]) <> 32 THEN
      RAISE EXCEPTION 'audit_append_batch: content hash must be 32 bytes';
    END IF;
    v_seq := v_seq + 1;
    v_prevs := v_prevs || v_prev;
    v_prev := sha256(v_prev || int8send(v_seq) || p_content_hash[i]);
    v_hashes := v_hashes || v_prev;
  END LOOP;
  INSERT INTO audit_events (organization_id, seq, occurred_at, id, actor_type, actor_id, actor_role, action, resource,
    method, route, patient_ids, query, outcome, status_code, request_id, ip, user_agent, prev_hash, hash)
  SELECT p_organization_id, v_first + i - 1, p_occurred_at[i], p_id[i], p_actor_type[i], p_actor_id[i], p_actor_role[i],
    p_action[i], p_resource[i], p_method[i], p_route[i], p_patient_ids[i]::uuid[], p_query[i]::jsonb, p_outcome[i],
    p_status_code[i], p_request_id[i], p_ip[i], p_user_agent[i], v_prevs[i], v_hashes[i]
  FROM generate_series(1, n) AS i;
  UPDATE audit_chain_heads SET last_seq = v_seq, last_hash = v_prev, updated_at = now() WHERE organization_id = p_organization_id;
  RETURN v_first;
END $$`);
    await q.query(`REVOKE ALL ON FUNCTION "audit_append_batch"(${SIGNATURE}) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION "audit_append_batch"(${SIGNATURE}) TO patient_journey_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "audit_append_batch"(${SIGNATURE})`);
  }
}
