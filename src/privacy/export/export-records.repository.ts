import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/**
 * The tables an export reads, one per stored record kind (docs/privacy.md, "What an export holds"). Each is read in
 * keyset batches of its key (bounded memory, nothing capped), optionally limited to some patients and to rows changed
 * since a time. PHI columns come back as stored (ciphertext): the services decrypt them with PhiCipher.
 */
export const EXPORT_TABLES = {
  patients: {
    table: 'patients',
    key: ['id'],
    patientColumn: 'id',
    columns: `id, source, external_id, name, phone_enc, email_enc, date_of_birth_enc, address_enc, conditions_enc, allergies_enc,
      medications_enc, preferred_channel, marketing_consent, appointment_reminders, referred_by_id, registered_at, deleted_at,
      created_at, updated_at,
      (SELECT coalesce(json_agg(json_build_object('h', i.identifier_hash, 'v', i.identifier_enc) ORDER BY i.identifier_hash), '[]'::json)
         FROM patient_identifiers i WHERE i.organization_id = patients.organization_id AND i.patient_id = patients.id) AS identifiers_enc`,
  },
  appointments: {
    table: 'appointments',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: 'id, patient_id, source, external_id, starts_at, type, status, value_cents, notes_enc, created_at, updated_at',
  },
  payments: {
    table: 'payments',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: 'id, patient_id, source, external_id, occurred_at, amount_cents, kind, status, created_at, updated_at',
  },
  communications: {
    table: 'communications',
    key: ['id'],
    patientColumn: 'patient_id',
    columns:
      'id, patient_id, source, external_id, occurred_at, channel, kind, direction, responded_at, outcome, notes_enc, created_at, updated_at',
  },
  survey_responses: {
    table: 'survey_responses',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: 'id, patient_id, source, external_id, submitted_at, satisfaction, nps, complaint, comment_enc, created_at, updated_at',
  },
  treatment_plans: {
    table: 'treatment_plans',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: `id, patient_id, source, external_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at,
      ends_at, created_at, updated_at`,
  },
  referrals: {
    table: 'referrals',
    key: ['id'],
    // A referral belongs to both patients' records: the referrer's and the referred one's.
    patientColumn: ['referrer_patient_id', 'referred_patient_id'],
    columns: 'id, referrer_patient_id, referred_patient_id, source, external_id, referred_at, created_at, updated_at',
  },
  journey_events: {
    table: 'journey_events',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: 'id, patient_id, source, external_id, occurred_at, stage, outcome, details, created_at, updated_at',
  },
  automation_enrollments: {
    table: 'automation_enrollments',
    key: ['id'],
    patientColumn: 'patient_id',
    columns: `id, patient_id, source, external_id, sequence, step, step_index, total_steps, next_action, next_action_at, status,
      enrolled_at, created_at, updated_at`,
  },
  scores: {
    table: 'patient_metrics',
    key: ['patient_id'],
    patientColumn: 'patient_id',
    columns: `patient_id, status, risk_score::float8 AS risk_score, risk_level, risk_factors, risk_trend, engagement_score::float8 AS engagement_score,
      ltv_cents, historical_revenue_cents, future_value_cents, referral_value_cents, total_sessions, avg_session_value_cents,
      success_probability::float8 AS success_probability, first_visit_at, last_appointment_at, next_appointment_at, last_contact_at,
      computed_at, updated_at`,
  },
  risk_history: {
    table: 'risk_score_history',
    key: ['patient_id', 'recorded_on'],
    patientColumn: 'patient_id',
    columns: `patient_id, recorded_on::text AS recorded_on, risk_score::float8 AS risk_score, created_at, updated_at`,
  },
  opportunities: {
    table: 'reengagement_opportunities',
    key: ['patient_id'],
    patientColumn: 'patient_id',
    columns: `patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents,
      success_probability::float8 AS success_probability, expected_return_cents::float8 AS expected_return_cents, last_contact_at,
      expected_visit_at, computed_at, updated_at`,
  },
} as const;

export type ExportTable = keyof typeof EXPORT_TABLES;
export const EXPORT_TABLE_NAMES = Object.keys(EXPORT_TABLES) as ExportTable[];

/** Which rows of a table an export reads. */
export interface ExportFilter {
  /** Only these patients' rows (null: every patient's). */
  patientIds: readonly string[] | null;
  /** Only rows changed at or after this time (null: all). */
  since: Date | null;
}

/** Rows read per round trip. */
export const EXPORT_BATCH_ROWS = 2000;

/** An export's reads, on the organization's handle (a snapshot transaction: the pool's or a batch connection's). */
@Injectable()
export class ExportRecordsRepository {
  /**
   * Every row of `kind` the filter selects, in key order, `batchRows` at a time: the caller holds one batch at once,
   * whatever the organization's size.
   */
  async *batches(
    db: TenantSql,
    kind: ExportTable,
    filter: ExportFilter,
    batchRows = EXPORT_BATCH_ROWS,
  ): AsyncGenerator<Record<string, unknown>[]> {
    const spec = EXPORT_TABLES[kind];
    const key = spec.key as readonly string[];
    const params: unknown[] = [db.organizationId];
    const where = ['organization_id = $1'];
    if (filter.patientIds !== null) {
      params.push(filter.patientIds);
      const columns = typeof spec.patientColumn === 'string' ? [spec.patientColumn] : spec.patientColumn;
      where.push(`(${columns.map((c) => `${c} = ANY($${params.length}::uuid[])`).join(' OR ')})`);
    }
    if (filter.since !== null) {
      params.push(filter.since);
      where.push(`updated_at >= $${params.length}`);
    }
    const keyList = key.join(', ');
    let last: unknown[] | null = null;
    for (;;) {
      const batchParams = [...params];
      const conditions = [...where];
      if (last !== null) {
        const placeholders = last.map((value) => {
          batchParams.push(value);
          return `$${batchParams.length}`;
        });
        conditions.push(`(${keyList}) > (${placeholders.join(', ')})`);
      }
      batchParams.push(batchRows);
      const rows = await db.query<Record<string, unknown>>(
        `SELECT ${spec.columns}, ${key.map((k, i) => `${k}::text AS "__key${i}"`).join(', ')}
           FROM ${spec.table} WHERE ${conditions.join(' AND ')} ORDER BY ${keyList} LIMIT $${batchParams.length}`,
        batchParams,
      );
      if (rows.length === 0) return;
      const tail = rows[rows.length - 1];
      last = key.map((_, i) => tail[`__key${i}`]);
      for (const row of rows) for (let i = 0; i < key.length; i++) delete row[`__key${i}`];
      yield rows;
      if (rows.length < batchRows) return;
    }
  }

  /** The organization's ISO 4217 currency (money in FHIR resources). */
  async currency(db: TenantSql): Promise<string> {
    const rows = await db.query<{ currency: string }>(`SELECT currency FROM organizations WHERE id = $1`, [db.organizationId]);
    return rows[0]?.currency.trim() || 'USD';
  }

  /** Whether the organization has this patient (soft-deleted ones included: their data is still stored). */
  async patientExists(db: TenantSql, patientId: string): Promise<boolean> {
    const rows = await db.query(`SELECT 1 FROM patients WHERE organization_id = $1 AND id = $2`, [db.organizationId, patientId]);
    return rows.length > 0;
  }
}
