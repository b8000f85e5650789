import { toAuditEventResponse } from 'src/audit/dto/audit-events.response';
import { Injectable } from '@nestjs/common';
import type { AuditEventRow } from 'src/audit/trail/audit-event';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { DEFAULT_RETENTION_POLICY, RetentionPolicy } from 'src/privacy/retention/domain/retention-policy';

/** Activity of a patient: any record dated at or after the cutoff ($2) keeps them. */
const ACTIVE_SINCE = [
  `SELECT 1 FROM appointments x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.starts_at >= $2`,
  `SELECT 1 FROM communications x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.occurred_at >= $2`,
  `SELECT 1 FROM payments x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.occurred_at >= $2`,
  `SELECT 1 FROM survey_responses x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.submitted_at >= $2`,
  `SELECT 1 FROM journey_events x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.occurred_at >= $2`,
  `SELECT 1 FROM treatment_plans x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND greatest(x.started_at, x.ends_at) >= $2`,
  `SELECT 1 FROM automation_enrollments x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND greatest(x.enrolled_at, x.next_action_at) >= $2`,
  `SELECT 1 FROM consent_decisions x WHERE x.organization_id = p.organization_id AND x.patient_id = p.id AND x.recorded_at >= $2`,
  `SELECT 1 FROM referrals x WHERE x.organization_id = p.organization_id AND (x.referrer_patient_id = p.id OR x.referred_patient_id = p.id) AND x.referred_at >= $2`,
];

/** Every SQL statement of the retention policy and its sweep. */
@Injectable()
export class RetentionRepository {
  async policy(db: TenantSql): Promise<RetentionPolicy & { updatedAt: Date | null }> {
    const rows = await db.query<{ inactive_patient_years: string | null; audit_years: string; updated_at: Date }>(
      `SELECT inactive_patient_years, audit_years, updated_at FROM retention_policies WHERE organization_id = $1`,
      [db.organizationId],
    );
    const r = rows[0];
    if (!r) return { ...DEFAULT_RETENTION_POLICY, updatedAt: null };
    return {
      inactivePatientYears: r.inactive_patient_years === null ? null : Number(r.inactive_patient_years),
      auditYears: Number(r.audit_years),
      updatedAt: r.updated_at,
    };
  }

  async savePolicy(db: TenantSql, policy: RetentionPolicy, at: Date, by: string): Promise<void> {
    await db.query(
      `INSERT INTO retention_policies (organization_id, inactive_patient_years, audit_years, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (organization_id) DO UPDATE
         SET inactive_patient_years = EXCLUDED.inactive_patient_years, audit_years = EXCLUDED.audit_years,
             updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      [db.organizationId, policy.inactivePatientYears, policy.auditYears, at, by],
    );
  }

  /**
   * Patients registered before the cutoff with no record dated at or after it (no visit, message, payment, survey,
   * journey event, plan, automation step, consent decision or referral), by id after `afterId`, at most `limit`.
   */
  async inactivePatients(db: TenantSql, cutoff: Date, afterId: string, limit: number): Promise<string[]> {
    const rows = await db.query<{ id: string }>(
      `SELECT p.id FROM patients p
        WHERE p.organization_id = $1 AND p.id > $3 AND p.registered_at < $2
          AND ${ACTIVE_SINCE.map((q) => `NOT EXISTS (${q})`).join('\n          AND ')}
        ORDER BY p.id LIMIT $4`,
      [db.organizationId, cutoff, afterId, limit],
    );
    return rows.map((r) => r.id);
  }

  /** The organization's audit archives (one: `archiveId`), oldest first, with their stored file's size and time. */
  async archives(db: TenantSql, archiveId?: string): Promise<AuditArchiveRow[]> {
    return db.query<AuditArchiveRow>(
      `SELECT r.archive_file_id AS id, r.first_seq, r.last_seq, r.events, r.first_occurred_at, r.last_occurred_at, r."before",
              f.bytes::float8 AS bytes, f.created_at
         FROM audit_retirements r JOIN stored_files f ON f.organization_id = r.organization_id AND f.id = r.archive_file_id
        WHERE r.organization_id = $1 AND f.status = 'complete'${archiveId === undefined ? '' : ' AND r.archive_file_id = $2'}
        ORDER BY r.last_seq`,
      archiveId === undefined ? [db.organizationId] : [db.organizationId, archiveId],
    );
  }

  /** The last retired sequence number (0: none retired yet). */
  async retiredThrough(db: TenantSql): Promise<number> {
    const [{ last }] = await db.query<{ last: string }>(
      `SELECT coalesce(max(last_seq), 0) AS last FROM audit_retirements WHERE organization_id = $1`,
      [db.organizationId],
    );
    return Number(last);
  }

  /**
   * The audit events that may retire before `cutoff`: the chain's prefix after `afterSeq` up to the event before the
   * first one at or after the cutoff (or the head when there is none): their count, the last one's sequence number and
   * the months they span.
   */
  async retirable(
    db: TenantSql,
    afterSeq: number,
    cutoff: Date,
  ): Promise<{ lastSeq: number; events: number; first: Date | null; last: Date | null }> {
    const [r] = await db.query<{ last_seq: string | null; events: string; first: Date | null; last: Date | null }>(
      `WITH bound AS (
         SELECT coalesce((SELECT min(seq) - 1 FROM audit_events WHERE organization_id = $1 AND seq > $2 AND occurred_at >= $3),
                         (SELECT last_seq FROM audit_chain_heads WHERE organization_id = $1), 0) AS last_seq)
       SELECT b.last_seq, count(e.seq) AS events, min(e.occurred_at) AS first, max(e.occurred_at) AS last
         FROM bound b LEFT JOIN audit_events e ON e.organization_id = $1 AND e.seq > $2 AND e.seq <= b.last_seq
        GROUP BY b.last_seq`,
      [db.organizationId, afterSeq, cutoff],
    );
    return { lastSeq: Number(r.last_seq ?? afterSeq), events: Number(r.events), first: r.first, last: r.last };
  }

  /** Deletes the chain's prefix through `lastSeq` (audit_retire() checks the count, the age and the handle). */
  async retire(db: TenantSql, lastSeq: number, events: number, cutoff: Date, archiveFileId: string | null): Promise<number> {
    const [{ n }] = await db.query<{ n: string }>(`SELECT audit_retire($1, $2, $3, $4, $5) AS n`, [
      db.organizationId,
      lastSeq,
      events,
      cutoff,
      archiveFileId,
    ]);
    return Number(n);
  }
}

/** An audit archive: its retirement and its stored file. */
export interface AuditArchiveRow {
  id: string;
  first_seq: string;
  last_seq: string;
  events: string;
  first_occurred_at: Date | null;
  last_occurred_at: Date | null;
  before: Date;
  bytes: number;
  created_at: Date;
}

/** An archived audit event, one NDJSON line (hashes in hex), as the archive file keeps it. */
export function archiveLine(e: AuditEventRow): string {
  return JSON.stringify({ organization_id: e.organizationId, ...toAuditEventResponse(e) });
}
