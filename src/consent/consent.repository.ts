import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { ConsentDecisionFacts } from 'src/consent/domain/consent-policy';
import type { Channel, ConsentDecisionKind, ConsentPurpose, ConsentSource } from 'src/records/records.enums';

/** A stored decision, as the history shows it (evidence still encrypted). */
export interface ConsentDecisionRow {
  id: string;
  patient_id: string;
  source: string;
  external_id: string;
  purpose: ConsentPurpose;
  channel: Channel | null;
  decision: ConsentDecisionKind;
  recorded_at: Date;
  origin: ConsentSource;
  recorded_by: string;
  expires_at: Date | null;
  evidence_enc: string | null;
  created_at: Date;
}

export interface ProjectionRow {
  patientId: string;
  grants: string[];
  marketingConsent: boolean;
  appointmentReminders: boolean;
  reviewAt: Date | null;
}

export interface NewDecisionRow {
  source: string;
  externalId: string;
  patientId: string;
  purpose: ConsentPurpose;
  decision: ConsentDecisionKind;
  recordedAt: Date;
  origin: ConsentSource;
  recordedBy: string;
}

const facts = (r: ConsentDecisionRow): ConsentDecisionFacts => ({
  id: r.id,
  purpose: r.purpose,
  channel: r.channel,
  decision: r.decision,
  recordedAt: new Date(r.recorded_at),
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  storedAt: new Date(r.created_at),
});

/** Every SQL statement about consent decisions and the grants kept on the patient. */
@Injectable()
export class ConsentRepository {
  /** The patients' decisions, newest first (recorded_at, then stored order). */
  async history(db: TenantSql, patientIds: readonly string[]): Promise<ConsentDecisionRow[]> {
    if (patientIds.length === 0) return [];
    return db.query<ConsentDecisionRow>(
      `SELECT id, patient_id, source, external_id, purpose, channel, decision, recorded_at, origin, recorded_by, expires_at, evidence_enc, created_at
         FROM consent_decisions
        WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])
        ORDER BY recorded_at DESC, created_at DESC, id DESC`,
      [db.organizationId, patientIds],
    );
  }

  /** The decisions by patient, as the policy takes them. */
  async factsByPatient(db: TenantSql, patientIds: readonly string[]): Promise<Map<string, ConsentDecisionFacts[]>> {
    const out = new Map<string, ConsentDecisionFacts[]>(patientIds.map((id) => [id, []]));
    for (const r of await this.history(db, patientIds)) out.get(r.patient_id)?.push(facts(r));
    return out;
  }

  /** The consent flags the patients have now (before a batch's decisions are applied). */
  async flags(db: TenantSql, patientIds: readonly string[]): Promise<Map<string, { marketing: boolean; reminders: boolean }>> {
    if (patientIds.length === 0) return new Map();
    const rows = await db.query<{ id: string; marketing_consent: boolean; appointment_reminders: boolean }>(
      `SELECT id, marketing_consent, appointment_reminders FROM patients WHERE organization_id = $1 AND id = ANY($2::uuid[])`,
      [db.organizationId, patientIds],
    );
    return new Map(rows.map((r) => [r.id, { marketing: r.marketing_consent, reminders: r.appointment_reminders }]));
  }

  /** Channel-wide decisions without evidence or expiry (from a patient record's consent flags). */
  async insertDecisions(db: TenantSql, rows: readonly NewDecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO consent_decisions (organization_id, source, external_id, patient_id, purpose, channel, decision, recorded_at, origin, recorded_by)
       SELECT $1, x.source, x.external_id, x.patient_id, x.purpose, NULL, x.decision, x.recorded_at, x.origin, x.recorded_by
         FROM jsonb_to_recordset($2::jsonb) AS x(source text, external_id text, patient_id uuid, purpose text, decision text, recorded_at timestamptz, origin text, recorded_by text)`,
      [
        db.organizationId,
        JSON.stringify(
          rows.map((r) => ({
            source: r.source,
            external_id: r.externalId,
            patient_id: r.patientId,
            purpose: r.purpose,
            decision: r.decision,
            recorded_at: r.recordedAt.toISOString(),
            origin: r.origin,
            recorded_by: r.recordedBy,
          })),
        ),
      ],
    );
  }

  /** Stores the effective grants; returns the ids of the patients whose grants or flags changed. */
  async saveProjection(db: TenantSql, rows: readonly ProjectionRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const changed = await db.query<{ id: string }>(
      `UPDATE patients p
          SET consent_grants = x.grants, marketing_consent = x.marketing_consent, appointment_reminders = x.appointment_reminders,
              consent_review_at = x.review_at, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, grants text[], marketing_consent boolean, appointment_reminders boolean, review_at timestamptz)
        WHERE p.organization_id = $1 AND p.id = x.id
          AND (p.consent_grants IS DISTINCT FROM x.grants OR p.marketing_consent IS DISTINCT FROM x.marketing_consent
               OR p.appointment_reminders IS DISTINCT FROM x.appointment_reminders OR p.consent_review_at IS DISTINCT FROM x.review_at)
       RETURNING p.id`,
      [
        db.organizationId,
        JSON.stringify(
          rows.map((r) => ({
            id: r.patientId,
            grants: r.grants,
            marketing_consent: r.marketingConsent,
            appointment_reminders: r.appointmentReminders,
            review_at: r.reviewAt?.toISOString() ?? null,
          })),
        ),
      ],
    );
    return changed.map((r) => r.id);
  }

  /** Patients whose grants include one that has expired by `now` (the expiry sweep). */
  async dueForReview(db: TenantSql, now: Date, limit: number): Promise<string[]> {
    const rows = await db.query<{ id: string }>(
      `SELECT id FROM patients WHERE organization_id = $1 AND consent_review_at IS NOT NULL AND consent_review_at <= $2 ORDER BY consent_review_at LIMIT $3`,
      [db.organizationId, now, limit],
    );
    return rows.map((r) => r.id);
  }

  /** The patient's (source, external id), the key its records refer to it by; null when not found or deleted. */
  async patientKey(db: TenantSql, patientId: string): Promise<{ source: string; externalId: string } | null> {
    const rows = await db.query<{ source: string; external_id: string }>(
      `SELECT source, external_id FROM patients WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [db.organizationId, patientId],
    );
    return rows[0] ? { source: rows[0].source, externalId: rows[0].external_id } : null;
  }
}
