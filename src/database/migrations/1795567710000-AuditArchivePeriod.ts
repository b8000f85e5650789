import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_retirements.first_occurred_at` / `last_occurred_at`: the period an audit archive covers (the first and the
 * last retired event's time), recorded by audit_retire() before it deletes the events, so that the archive list
 * (`GET /api/v1/organizations/{organizationId}/audit-archives`) can show it without decrypting the files. Archives
 * retired before this migration keep them null (their events are gone).
 */
export class AuditArchivePeriod1795567710000 implements MigrationInterface {
  name = 'AuditArchivePeriod1795567710000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "audit_retirements" ADD "first_occurred_at" TIMESTAMP WITH TIME ZONE, ADD "last_occurred_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(auditRetire(true));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(auditRetire(false));
    await q.query(`ALTER TABLE "audit_retirements" DROP COLUMN "last_occurred_at", DROP COLUMN "first_occurred_at"`);
  }
}

/** audit_retire() as 1795567620000 made it, with (`period`) or without the period of the retired events. */
function auditRetire(period: boolean): string {
  return `CREATE OR REPLACE FUNCTION "audit_retire"(p_organization_id uuid, p_last_seq bigint, p_events bigint, p_before timestamptz, p_archive_file_id uuid)
      RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_hash bytea;
  v_first bigint;
  v_deleted bigint;
  v_from timestamptz;
  v_to timestamptz;
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
  ${period ? 'SELECT min(occurred_at), max(occurred_at) INTO v_from, v_to FROM audit_events WHERE organization_id = p_organization_id AND seq <= p_last_seq;' : ''}
  PERFORM set_config('app.audit_retiring', p_organization_id::text, true);
  DELETE FROM audit_events WHERE organization_id = p_organization_id AND seq <= p_last_seq;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  PERFORM set_config('app.audit_retiring', '', true);
  IF v_deleted <> p_events THEN
    RAISE EXCEPTION 'audit_retire: % events to retire, % archived', v_deleted, p_events USING ERRCODE = 'check_violation';
  END IF;
  ${
    period
      ? `INSERT INTO audit_retirements (organization_id, last_seq, last_hash, first_seq, events, "before", archive_file_id, first_occurred_at, last_occurred_at)
    VALUES (p_organization_id, p_last_seq, v_hash, v_first, v_deleted, p_before, p_archive_file_id, v_from, v_to);`
      : `INSERT INTO audit_retirements (organization_id, last_seq, last_hash, first_seq, events, "before", archive_file_id)
    VALUES (p_organization_id, p_last_seq, v_hash, v_first, v_deleted, p_before, p_archive_file_id);`
  }
  RETURN v_deleted;
END $$`;
}
