import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { ORGANIZATION_COLUMNS, type OrganizationRow } from 'src/organizations/organizations.repository';
import { CHUNK_BOUNDARIES_SQL } from 'src/scoring/features/features.repository';
import { LATEST_FITS_SQL, type LatestFitRow, type StoredFits, storedFitsFrom } from 'src/scoring/model-fits.repository';

/** The run's advisory lock key of organization $1 (one organization-wide run per organization at a time). */
export const RECOMPUTE_LOCK_KEY = `hashtextextended('recompute:' || $1, 0)`;

/** What an organization-wide run reads before its chunks, in one statement (readRunSetup). */
export interface RunSetup {
  /** Whether the statement took the run's advisory lock (asked with `tryLock`); false: another run holds it. */
  locked: boolean;
  organization: OrganizationRow;
  /** The chunk boundaries and the live patients (FeaturesRepository.chunkBoundaries). */
  boundaries: { ids: string[]; patients: number };
  /**
   * The settings key of one kept features row (`computed_for` set), or null when the organization has none: when it
   * is the run's key, some rows are kept under it (hasKeptFeatures true); another key says nothing either way (the
   * caller asks hasKeptFeatures then: after a settings change, or several keys at once).
   */
  keptKeySample: string | null;
  /** The latest fit attempt (ModelFitsRepository.latestFits). */
  stored: StoredFits | null;
}

/**
 * The setup of an organization-wide run in ONE statement, where it took five round trips (lock, organization, chunk
 * boundaries, kept-features check, stored fit): the same reads, the same statements' text inside. With `tryLock`, the
 * run's advisory lock is tried in it (pg_try_advisory_lock); false (another run holds it) means the caller waits
 * for the lock and reads again without. Its reads share one snapshot, taken as the statement starts, a moment before
 * the lock is tried: a run that released the lock in that moment has committed everything before releasing it (its
 * unlock follows its last COMMIT), so the reads see all of it but for that microsecond window, in which what could be
 * missed is that run's last writes, which a recompute repeats anyway (idempotent). Null when the organization does
 * not exist (no lock taken).
 */
export async function readRunSetup(db: TenantSql, chunkSize: number, options: { tryLock: boolean }): Promise<RunSetup | null> {
  const rows = await db.query<
    OrganizationRow & {
      locked: boolean | null;
      ids: string[] | null;
      patients: number;
      kept_key: string | null;
      fits: LatestFitRow[] | null;
    }
  >(
    `SELECT CASE WHEN $3::boolean THEN pg_try_advisory_lock(${RECOMPUTE_LOCK_KEY}) END AS locked, o.*, b.ids, b.patients,
            (SELECT f.settings_key FROM patient_features f WHERE f.organization_id = $1 AND f.computed_for IS NOT NULL LIMIT 1) AS kept_key,
            (SELECT json_agg(x) FROM (${LATEST_FITS_SQL}) x) AS fits
       FROM (SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1) o, LATERAL (${CHUNK_BOUNDARIES_SQL}) b`,
    [db.organizationId, Math.max(1, Math.floor(chunkSize)), options.tryLock],
  );
  const row = rows[0];
  if (!row) return null;
  const { locked, ids, patients, kept_key: keptKeySample, fits, ...organization } = row;
  return {
    locked: locked === true,
    organization: {
      id: organization.id,
      slug: organization.slug,
      name: organization.name,
      timezone: organization.timezone,
      settings: organization.settings,
    },
    boundaries: { ids: ids ?? [], patients },
    keptKeySample,
    // json_agg gives the timestamps as text.
    stored: storedFitsFrom((fits ?? []).map((f) => ({ ...f, fitted_at: new Date(f.fitted_at) }))),
  };
}
