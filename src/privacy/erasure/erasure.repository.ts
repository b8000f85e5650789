import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** A table that holds rows of patients by a `patient_id` column, as the catalog names it. */
export interface PatientTable {
  table: string;
  /** Whether it has an `organization_id` column too (every tenant table does). */
  organizationColumn: boolean;
}

export type ErasureBasis = 'patient_request' | 'retention' | 'other';

export interface StoredReceipt {
  id: string;
  patientId: string;
  basis: ErasureBasis;
  erasedAt: Date;
  recordsDeleted: Record<string, number>;
  recordsUnlinked: Record<string, number>;
}

/** Tables an erasure handles before the generic pass: the rollup (through its service) and the opportunities' totals. */
const HANDLED_APART = new Set(['engagement_patient_days', 'reengagement_opportunities']);
/**
 * The owner's tables of an organization-wide metrics rebuild (src/scoring/recompute/metrics-partition-swap.ts): the
 * log of patients whose live row changed meanwhile (the erasure's delete of the live row is logged there) and the
 * fresh table, from which the swap deletes the row of every logged patient whose live row is gone. Left to the swap:
 * emptying the log would make the swap keep the erased patient's fresh row. The runtime role has no grant on either.
 * And the fresh table of an opportunities build (src/opportunities/opportunities-partition-swap.ts), which exists only
 * while the organization's refresh lock is held: the erasure's `forgetPatients` waits for that lock, then finds the
 * swapped rows in the organization's partition; likewise the fresh table of an engagement rollup's build
 * (src/engagement/engagement-partition-swap.ts), under the rollup's lock, which the rollup's `forgetPatients` waits for.
 */
const REBUILD_TABLE =
  /^patient_metrics_rebuild_log$|^patient_metrics_[0-9a-f]{32}_rebuild$|^reengagement_opps_[0-9a-f]{32}_rebuild$|^engagement_days_[0-9a-f]{32}_rebuild$/;
/** Derived tables go after the records (whose delete triggers touch them). */
const DERIVED = ['patient_features', 'patient_metrics', 'risk_score_history'];

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Every SQL statement of an erasure. Each method runs on the caller's tenant handle (one transaction per erasure). */
@Injectable()
export class ErasureRepository {
  /**
   * Holds off an organization-wide recompute for the rest of the transaction (a shared hold on its advisory lock,
   * src/scoring/recompute/organization-recompute.ts), so that no recompute chunk writes scores of the patient between
   * its read and its write (their foreign keys would fail that chunk). `wait`: until a running one ends; otherwise
   * false at once when one runs.
   */
  async holdOffRecompute(db: TenantSql, wait: boolean): Promise<boolean> {
    const fn = wait ? 'pg_advisory_xact_lock_shared' : 'pg_try_advisory_xact_lock_shared';
    const [row] = await db.query<{ ok: boolean | string }>(`SELECT ${fn}(hashtextextended('recompute:' || $1, 0)) AS ok`, [
      db.organizationId,
    ]);
    return wait || row.ok === true;
  }

  /** The patient's source key, locked for the erasure (null: no such patient, or erased already). Soft-deleted ones count. */
  async lockPatient(db: TenantSql, patientId: string): Promise<{ source: string; externalId: string } | null> {
    const rows = await db.query<{ source: string; external_id: string }>(
      `SELECT source, external_id FROM patients WHERE organization_id = $1 AND id = $2 FOR UPDATE`,
      [db.organizationId, patientId],
    );
    return rows.length === 0 ? null : { source: rows[0].source, externalId: rows[0].external_id };
  }

  async receipt(db: TenantSql, patientId: string): Promise<StoredReceipt | null> {
    const rows = await db.query<{
      id: string;
      erased_patient_id: string;
      basis: ErasureBasis;
      erased_at: Date;
      records_deleted: Record<string, number>;
      records_unlinked: Record<string, number>;
    }>(
      `SELECT id, erased_patient_id, basis, erased_at, records_deleted, records_unlinked FROM erasure_receipts
        WHERE organization_id = $1 AND erased_patient_id = $2`,
      [db.organizationId, patientId],
    );
    const r = rows[0];
    return r
      ? {
          id: r.id,
          patientId: r.erased_patient_id,
          basis: r.basis,
          erasedAt: r.erased_at,
          recordsDeleted: r.records_deleted,
          recordsUnlinked: r.records_unlinked,
        }
      : null;
  }

  async saveReceipt(db: TenantSql, receipt: StoredReceipt, reasonEnc: string | null, erasedBy: string): Promise<void> {
    await db.query(
      `INSERT INTO erasure_receipts (organization_id, id, erased_patient_id, basis, reason_enc, erased_at, records_deleted, records_unlinked, erased_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)`,
      [
        db.organizationId,
        receipt.id,
        receipt.patientId,
        receipt.basis,
        reasonEnc,
        receipt.erasedAt,
        JSON.stringify(receipt.recordsDeleted),
        JSON.stringify(receipt.recordsUnlinked),
        erasedBy,
      ],
    );
  }

  /**
   * Every table of the schema with a `patient_id` column (partitioned tables by their parent), from the catalog: a table
   * added later is covered without a change here, and one the runtime role may not delete from makes the erasure fail
   * rather than leave the patient's rows behind. Records first, derived tables last; those handled apart and the
   * rebuild's own tables left out.
   */
  async patientTables(db: TenantSql): Promise<PatientTable[]> {
    const rows = await db.query<{ table: string; org: boolean }>(
      `SELECT c.relname AS table,
              EXISTS (SELECT 1 FROM pg_attribute o WHERE o.attrelid = c.oid AND o.attname = 'organization_id' AND NOT o.attisdropped) AS org
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'patient_id' AND NOT a.attisdropped
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname`,
    );
    const rank = (t: string): number => (DERIVED.includes(t) ? 1 + DERIVED.indexOf(t) : 0);
    return rows
      .filter((r) => !HANDLED_APART.has(r.table) && !REBUILD_TABLE.test(r.table))
      .map((r) => ({ table: r.table, organizationColumn: r.org }))
      .sort((a, b) => rank(a.table) - rank(b.table) || a.table.localeCompare(b.table));
  }

  /** Deletes the patient's rows of one table; returns how many. */
  async deleteFrom(db: TenantSql, t: PatientTable, patientId: string): Promise<number> {
    const [{ n }] = t.organizationColumn
      ? await db.query<{ n: number }>(
          `WITH d AS (DELETE FROM ${ident(t.table)} WHERE organization_id = $1 AND patient_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
          [db.organizationId, patientId],
        )
      : await db.query<{ n: number }>(
          `WITH d AS (DELETE FROM ${ident(t.table)} WHERE patient_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
          [patientId],
        );
    return n;
  }

  /** The patient's referrals of others go; referrals of the patient by others stay without the referred identity. */
  async referrals(db: TenantSql, patientId: string): Promise<{ deleted: number; unlinked: number }> {
    const [{ deleted }] = await db.query<{ deleted: number }>(
      `WITH d AS (DELETE FROM referrals WHERE organization_id = $1 AND referrer_patient_id = $2 RETURNING 1) SELECT count(*)::int AS deleted FROM d`,
      [db.organizationId, patientId],
    );
    const [{ unlinked }] = await db.query<{ unlinked: number }>(
      `WITH u AS (UPDATE referrals SET referred_patient_id = NULL, updated_at = now()
                   WHERE organization_id = $1 AND referred_patient_id = $2 RETURNING 1) SELECT count(*)::int AS unlinked FROM u`,
      [db.organizationId, patientId],
    );
    return { deleted, unlinked };
  }

  /** Other patients referred by this one keep their record, without the link. */
  async unlinkReferredBy(db: TenantSql, patientId: string): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(
      `WITH u AS (UPDATE patients SET referred_by_id = NULL WHERE organization_id = $1 AND referred_by_id = $2 RETURNING 1) SELECT count(*)::int AS n FROM u`,
      [db.organizationId, patientId],
    );
    return n;
  }

  /** The FHIR import's resources of the patient (medical list items, settled claims), keyed by their source reference. */
  async fhirResources(db: TenantSql, source: string, externalId: string): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(
      `WITH d AS (DELETE FROM fhir_resources WHERE organization_id = $1 AND source = $2 AND patient_ref = $3 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [db.organizationId, source, externalId],
    );
    return n;
  }

  /** The files of bulk exports asked for this patient by id (their job's `patient_ids`): deleted with their chunks. */
  async exportFiles(db: TenantSql, patientId: string): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(
      `WITH d AS (DELETE FROM stored_files f USING job_runs r
                   WHERE f.organization_id = $1 AND r.organization_id = $1 AND f.run_id = r.id
                     AND r.type = 'bulk-export' AND jsonb_typeof(r.payload->'patient_ids') = 'array' AND r.payload->'patient_ids' ? $2
                  RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [db.organizationId, patientId],
    );
    return n;
  }

  async deletePatient(db: TenantSql, patientId: string): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(
      `WITH d AS (DELETE FROM patients WHERE organization_id = $1 AND id = $2 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [db.organizationId, patientId],
    );
    return n;
  }
}
