import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { PatientStatus } from 'src/scoring/domain/patient-status';
import type { RiskLevel } from 'src/scoring/domain/risk-score';
import type { RiskTrend } from 'src/scoring/domain/risk-trend';

/** One (status, risk level, trend) group of an organization's patients. */
export interface CountGroup {
  status: PatientStatus;
  riskLevel: RiskLevel;
  riskTrend: RiskTrend;
  patients: number;
}

export interface OrganizationCounts {
  groups: CountGroup[];
  /** When the newest scores behind these counts were computed (ISO), null if none ever were. */
  lastComputedAt: string | null;
}

/** Fold the delta rows once an organization has this many (a read stays a short index range either way). */
const COMPACT_ABOVE_ROWS = 500;

/** A row of `organizationCountsStatement`. */
export interface CountRow {
  status: PatientStatus;
  risk_level: RiskLevel;
  risk_trend: RiskTrend;
  patients: string;
  last: Date | null;
  delta_rows: string;
}

/**
 * The statement of an organization's counts (its rows: `countsFromRows`), for a caller that sends it with a
 * statement of its own (TenantDb.statements' `leading`: the list's first page on a counts miss).
 */
export function organizationCountsStatement(organizationId: string): { text: string; params: unknown[]; prepare: string } {
  return {
    // Prepared where the caller's unit is (the list's: TenantDb.statements with `prepared`): one plan for every
    // organization (its few dozen rows by the primary key's prefix).
    prepare: 'patient-counts-organization',
    text: `SELECT status, risk_level, risk_trend, sum(patients)::text AS patients, max(last_computed_at) AS last,
                sum(count(*)) OVER ()::text AS delta_rows
           FROM patient_metric_counts WHERE organization_id = $1
          GROUP BY status, risk_level, risk_trend`,
    params: [organizationId],
  };
}

/** Whether the organization's delta rows should be folded (PatientCountsRepository.compact) after this read. */
export const needsCompaction = (rows: readonly CountRow[]): boolean => rows.length > 0 && Number(rows[0].delta_rows) > COMPACT_ABOVE_ROWS;

/** The counts from the rows of `organizationCountsStatement`. */
export function countsFromRows(rows: readonly CountRow[]): OrganizationCounts {
  let last: Date | null = null;
  for (const r of rows) if (r.last && (!last || r.last > last)) last = r.last;
  return {
    groups: rows
      .map((r) => ({ status: r.status, riskLevel: r.risk_level, riskTrend: r.risk_trend, patients: Number(r.patients) }))
      .filter((g) => g.patients !== 0),
    lastComputedAt: last ? last.toISOString() : null,
  };
}

/**
 * The maintained counts (`patient_metric_counts`, kept by triggers: migration 1795566600000) and the one count
 * that cannot be maintained, a name-prefix search. Every statement is scoped by organization and runs inside
 * a tenant handle (row-level security).
 */
@Injectable()
export class PatientCountsRepository {
  async organizationCounts(db: TenantSql): Promise<OrganizationCounts> {
    const { text, params } = organizationCountsStatement(db.organizationId);
    const rows: CountRow[] = await db.query(text, params);
    if (needsCompaction(rows)) await this.compact(db);
    return countsFromRows(rows);
  }

  /** Folds the organization's delta rows of `patient_metric_counts` (when `needsCompaction` said so). */
  async compact(db: TenantSql): Promise<void> {
    await db.query(`SELECT patient_metric_counts_compact($1)`, [db.organizationId]);
  }

  /**
   * Patients of one status (null: all) as the maintained counts have them, read in the caller's transaction (no
   * cache, no compaction: a deep list page needs the count of its own snapshot).
   */
  async countStatus(db: TenantSql, status: PatientStatus | null): Promise<number> {
    const params: unknown[] = [db.organizationId];
    if (status) params.push(status);
    const rows: { n: string }[] = await db.query(
      `SELECT coalesce(sum(patients), 0)::text AS n FROM patient_metric_counts WHERE organization_id = $1${status ? ' AND status = $2' : ''}`,
      params,
    );
    return Number(rows[0].n);
  }

  /**
   * Patients whose lower-cased name starts with `prefix` (already lower-cased), optionally of one status: an
   * index-only range count over `idx_patient_metrics_[status_]sort_name`.
   */
  async countNamePrefix(db: TenantSql, status: PatientStatus | null, prefix: string): Promise<number> {
    const params: unknown[] = [db.organizationId, prefix, prefixUpperBound(prefix), likePrefix(prefix)];
    const statusSql = status ? `AND status = $5` : '';
    if (status) params.push(status);
    const rows: { n: string }[] = await db.query(
      `SELECT count(*)::text AS n FROM patient_metrics
        WHERE organization_id = $1 ${statusSql} AND sort_name >= $2 AND sort_name < $3 AND sort_name LIKE $4`,
      params,
    );
    return Number(rows[0].n);
  }
}

/** The smallest string greater than every string starting with `prefix` (code-point order). */
export function prefixUpperBound(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

/** `prefix%` with LIKE's wildcards escaped. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}
