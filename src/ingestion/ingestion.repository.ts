import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';
import type { TableSpec } from 'src/ingestion/record-tables';

/** (source, external id) of a record. */
export interface RecordKey {
  source: string;
  externalId: string;
}

export type StoredRow = Record<string, unknown> & { id: string; source: string; external_id: string };

export const keyOf = (source: string, externalId: string): string => `${source}\u0000${externalId}`;

const keyArrays = (keys: RecordKey[]): [string[], string[]] => [keys.map((k) => k.source), keys.map((k) => k.externalId)];

/**
 * The row of `table` (alias t) with the key `k` of the enclosing `unnest`, as a LATERAL subquery: one probe of the
 * (organization_id, source, external_id) unique index per key. A plain join on the unnest let the planner hash the
 * organization's whole table when it was never analyzed (a bulk load: 1,000 keys against 500,000 payments took 623 ms
 * instead of 3 ms, so each chunk of a large import was slower than the last). The organization is compared with
 * `(SELECT $1::uuid)`, a value the planner sees only when the statement runs, not with `$1`: given the value, it
 * estimated a clinic its statistics did not know yet (a second clinic's first import) at one row, took the smaller
 * index `(organization_id, id)` and filtered the clinic's rows once per key (1-2.5 s per chunk; docs/fhir.md, "A
 * second clinic's import"); not given it, it estimates the average clinic's rows, and the unique key wins.
 */
const byKey = (table: string, columns: string): string =>
  `SELECT ${columns} FROM ${table} t WHERE t.organization_id = ${UNSEEN_ORGANIZATION} AND t.source = k.source AND t.external_id = k.external_id LIMIT 1`;

/**
 * Every SQL statement of the ingestion path. Each runs on the tenant handle of the ingestion's transaction
 * (TenantDb.transaction; row-level security applies as well).
 */
@Injectable()
export class IngestionRepository {
  /** Ids of the organization's patients with these (source, external id). */
  async patientIds(db: TenantSql, keys: RecordKey[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await db.query<{ id: string; source: string; external_id: string }>(
      `SELECT p.id, p.source, p.external_id FROM unnest($2::text[], $3::text[]) AS k(source, external_id)
         CROSS JOIN LATERAL (${byKey('patients', 't.id, t.source, t.external_id')}) p`,
      [db.organizationId, ...keyArrays(keys)],
    );
    return new Map(rows.map((r) => [keyOf(r.source, r.external_id), r.id]));
  }

  /** The stored rows (id and the spec's columns, plus `referred_by_id` for patients) with these keys. */
  async existing(db: TenantSql, spec: TableSpec, keys: RecordKey[]): Promise<Map<string, StoredRow>> {
    if (keys.length === 0) return new Map();
    const extra = spec.table === 'patients' ? ', t.referred_by_id' : '';
    const rows = await db.query<StoredRow>(
      `SELECT t.* FROM unnest($2::text[], $3::text[]) AS k(source, external_id)
         CROSS JOIN LATERAL (${byKey(spec.table, `t.id, t.source, t.external_id, ${spec.columns.map((c) => `t.${c.name}`).join(', ')}${extra}`)}) t`,
      [db.organizationId, ...keyArrays(keys)],
    );
    return new Map(rows.map((r) => [keyOf(r.source, r.external_id), r]));
  }

  /**
   * Inserts or updates rows by (organization, source, external id) in one statement; values are already in their
   * stored form (ciphertext, ISO timestamps). Returns the ids by key.
   */
  async upsert(db: TenantSql, spec: TableSpec, rows: Record<string, unknown>[], withIds = false): Promise<Map<string, string>> {
    if (rows.length === 0) return new Map();
    const names = spec.columns.map((c) => c.name);
    // With ids (tables with encrypted values, bound to their row's id): a row is updated only if it has the id the
    // values were encrypted for; one created meanwhile by a concurrent request under another id is left alone (and
    // missing from the answer, which the caller turns into a conflict).
    const id = withIds ? ['id'] : [];
    const recordset = [...id.map(() => 'id uuid'), 'source text', 'external_id text', ...spec.columns.map((c) => `${c.name} ${c.sql}`)].join(', ');
    const written = await db.query<{ id: string; source: string; external_id: string }>(
      `INSERT INTO ${spec.table} AS t (${[...id, 'organization_id'].join(', ')}, source, external_id, ${names.join(', ')})
       SELECT ${[...id.map(() => 'x.id'), '$1'].join(', ')}, x.source, x.external_id, ${names.map((n) => `x.${n}`).join(', ')}
         FROM jsonb_to_recordset($2::jsonb) AS x(${recordset})
       ON CONFLICT (organization_id, source, external_id)
       DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, updated_at = now()${withIds ? ' WHERE t.id = EXCLUDED.id' : ''}
       RETURNING id, source, external_id`,
      [db.organizationId, JSON.stringify(rows)],
    );
    return new Map(written.map((r) => [keyOf(r.source, r.external_id), r.id]));
  }

  async setReferredBy(db: TenantSql, links: { id: string; referredById: string | null }[]): Promise<void> {
    if (links.length === 0) return;
    await db.query(
      `UPDATE patients p SET referred_by_id = x.referred_by_id, updated_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, referred_by_id uuid)
        WHERE p.organization_id = $1 AND p.id = x.id`,
      [db.organizationId, JSON.stringify(links.map((l) => ({ id: l.id, referred_by_id: l.referredById })))],
    );
  }

  /**
   * Marks the patients' derived metrics stale. A patient without a `patient_metrics` row gets one (provisional
   * values, `stale`), so every patient shows in the lists before the scoring engine has run; soft-deleted patients
   * get none.
   */
  async markStale(db: TenantSql, patientIds: string[]): Promise<void> {
    if (patientIds.length === 0) return;
    await db.query(
      `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level, stale)
       SELECT p.organization_id, p.id, lower(p.name), 'active', 'low', true FROM patients p
        WHERE p.organization_id = $1 AND p.id = ANY($2::uuid[]) AND p.deleted_at IS NULL
       ON CONFLICT (organization_id, patient_id) DO UPDATE SET stale = true, sort_name = EXCLUDED.sort_name, updated_at = now()`,
      [db.organizationId, patientIds],
    );
  }
}
