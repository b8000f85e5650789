import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

export interface ExportPatientRow {
  id: string;
  external_id: string;
  name: string;
  email_enc: string | null;
  phone_enc: string | null;
  date_of_birth_enc: string | null;
  address_enc: string | null;
  first_visit_at: Date | null;
}

export interface ExportVisitRow {
  patient_id: string;
  starts_at: Date;
  status: string;
  value_cents: number;
}

export interface ExportPaymentRow {
  patient_id: string;
  occurred_at: Date;
  amount_cents: number;
  kind: string;
  status: string;
}

export interface ExportScoresRow {
  patient_id: string;
  status: string;
  risk_score: number | null;
  risk_level: string;
  engagement_score: number | null;
  ltv_cents: number | null;
  total_sessions: number | null;
}

/**
 * The de-identified export's reads. Consent is enforced here, in the query that chooses the patients: only those
 * whose effective grants (`patients.consent_grants`, kept by the consent writer) include the export's purpose.
 */
@Injectable()
export class DeidentifiedExportRepository {
  /** The organization's patients (not deleted), and how many of them consented to the purpose. */
  async population(db: TenantSql, purpose: string): Promise<{ patients: number; consented: number }> {
    const rows = await db.query<{ patients: number; consented: number }>(
      `SELECT count(*)::int AS patients, count(*) FILTER (WHERE consent_grants @> ARRAY[$2]::text[])::int AS consented
         FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`,
      [db.organizationId, purpose],
    );
    return rows[0] ?? { patients: 0, consented: 0 };
  }

  /** A page of the consenting patients after `afterId`, in id order, with their first completed visit. */
  async patients(db: TenantSql, purpose: string, afterId: string, limit: number): Promise<ExportPatientRow[]> {
    return db.query<ExportPatientRow>(
      `SELECT p.id, p.external_id, p.name, p.email_enc, p.phone_enc, p.date_of_birth_enc, p.address_enc,
              (SELECT min(a.starts_at) FROM appointments a
                WHERE a.organization_id = p.organization_id AND a.patient_id = p.id AND a.status = 'completed') AS first_visit_at
         FROM patients p
        WHERE p.organization_id = $1 AND p.deleted_at IS NULL AND p.consent_grants @> ARRAY[$2]::text[] AND p.id > $3
        ORDER BY p.id
        LIMIT $4`,
      [db.organizationId, purpose, afterId, limit],
    );
  }

  async visits(db: TenantSql, patientIds: readonly string[]): Promise<ExportVisitRow[]> {
    return db.query<ExportVisitRow>(
      `SELECT patient_id, starts_at, status, value_cents FROM appointments
        WHERE organization_id = $1 AND patient_id = ANY($2::uuid[]) ORDER BY patient_id, starts_at`,
      [db.organizationId, patientIds],
    );
  }

  async payments(db: TenantSql, patientIds: readonly string[]): Promise<ExportPaymentRow[]> {
    return db.query<ExportPaymentRow>(
      `SELECT patient_id, occurred_at, amount_cents, kind, status FROM payments
        WHERE organization_id = $1 AND patient_id = ANY($2::uuid[]) ORDER BY patient_id, occurred_at`,
      [db.organizationId, patientIds],
    );
  }

  async scores(db: TenantSql, patientIds: readonly string[]): Promise<ExportScoresRow[]> {
    return db.query<ExportScoresRow>(
      `SELECT patient_id, status, risk_score, risk_level, engagement_score, ltv_cents, total_sessions FROM patient_metrics
        WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])`,
      [db.organizationId, patientIds],
    );
  }
}
