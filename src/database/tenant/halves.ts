import { settled } from 'src/common/settled';
import type { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** A range of patient ids: after `after` (null: from the first), up to `upTo` included (null: to the last). */
export interface PatientRange {
  after: string | null;
  upTo: string | null;
}

/**
 * Whether the organization has at least `min` live patients (at most `min` index entries read): the size from which
 * an organization-wide job builds and swaps its rows (REBUILD_MIN_PATIENTS) instead of updating them in place.
 */
export async function hasLivePatients(tenantDb: TenantDb, organizationId: string, min: number): Promise<boolean> {
  const [{ n }] = await tenantDb.transaction(organizationId, (db) =>
    db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM patients WHERE organization_id = $1 AND deleted_at IS NULL LIMIT $2) x`,
      [organizationId, min],
    ),
  );
  return n >= min;
}

/**
 * The patient id that splits the organization's live patients (their `patient_metrics` rows) in two halves of equal
 * size, the lower half up to it included; null without any. One walk of the organization's metrics index (about
 * 0.1 s at a million patients): a split by count, since ids need not be uniform (the seed's are time-ordered, like
 * UUIDv7).
 */
export async function middlePatient(db: TenantSql): Promise<string | null> {
  const rows = await db.query<{ patient_id: string }>(
    `SELECT patient_id FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id
      OFFSET (SELECT count(*) / 2 FROM patient_metrics WHERE organization_id = $1) LIMIT 1`,
    [db.organizationId],
  );
  return rows[0]?.patient_id ?? null;
}

/**
 * `work` over the organization's patients in two halves at once (a large organization's build, whose statement is
 * one core's work where the machine has two): the lower half (up to the middle patient) in `db`'s transaction, which
 * must be REPEATABLE READ (TenantDb.transaction's `repeatableRead`: its snapshot is exported), the upper half in a
 * transaction of its own on another pool connection, on that snapshot (`importSnapshot`), so that both read the same
 * data, each under the tenant setting and row-level security; `local`: the second transaction's settings (the first
 * has its own). Both settle before a failure of either is thrown: neither still writes what the caller drops on
 * failure. When the second transaction cannot begin (no pool connection free within the acquire timeout), the upper
 * half runs after the lower in `db`'s transaction. An organization without patients: `work` once, over every patient.
 * Returns the halves' results in order.
 */
export async function inTwoHalves<T>(
  tenantDb: TenantDb,
  db: TenantSql,
  work: (db: TenantSql, range: PatientRange) => Promise<T>,
  options: { local?: readonly string[] } = {},
): Promise<T[]> {
  const middle = await middlePatient(db);
  if (middle === null) return [await work(db, { after: null, upTo: null })];
  const [{ id: snapshot }] = await db.query<{ id: string }>(`SELECT pg_export_snapshot() AS id`);
  const upperRange: PatientRange = { after: middle, upTo: null };
  let upperStarted = false;
  const [lower, upper] = await Promise.allSettled([
    work(db, { after: null, upTo: middle }),
    tenantDb.transaction(
      db.organizationId,
      (second) => {
        upperStarted = true;
        return work(second, upperRange);
      },
      { batch: true, local: options.local, importSnapshot: snapshot },
    ),
  ]);
  // No second transaction (every pool connection in use until the acquire timeout, or its BEGIN refused): the upper
  // half after the lower, in `db`'s transaction, on the same snapshot. Slower, not failed: the job is not retried for
  // a pool saturated by requests.
  if (lower.status === 'fulfilled' && upper.status === 'rejected' && !upperStarted) return [lower.value, await work(db, upperRange)];
  return settled([lower, upper]);
}
