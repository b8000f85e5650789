import type { BatchTenantSql } from 'src/database/tenant/tenant-sql';
import type { ScoringSettings } from 'src/scoring/domain';
import type { FeatureRow, PatientSelector } from 'src/scoring/features/feature-row';
import type { ScoringRepositories } from 'src/scoring/scoring-repositories';

/**
 * A chunk is read afresh as a whole (its id range) rather than patient by patient (their ids) when more than this
 * share of its patients have no usable kept features: the first run, a run after a settings change.
 */
export const FRESH_RANGE_SHARE = 0.5;

/**
 * Patients read afresh by id up to this many run on the features statement's generic plan (planned once per
 * connection, kept by its prepared statement) rather than a plan of their own each time: for a few ids the planning
 * of the large statement is most of its cost. A next-day night re-reads about three patients a small clinic (their
 * kept rows expired), and there the custom plan cost the server 4.5-5.6 ms a statement against 1.1-1.3 ms for the
 * generic one, the rows identical (docs/scaling.md, "A real night is a next-day night"). Larger sets (a large
 * organization's chunk) keep the planner's choice per run.
 */
export const GENERIC_PLAN_IDS = 200;

export interface ChunkReadOptions {
  settings: ScoringSettings;
  timeZone: string;
  /** Whether kept features may be rolled forward (the organization has some under these settings). */
  reuse: boolean;
  /**
   * How the kept read reads the risk history (keptFeaturesQuery): 'window' for a small organization (its one chunk:
   * the window's pass and one lookup a patient, cheaper there), else the three lookups a patient. Default 'lookups'.
   */
  history?: 'window' | 'lookups';
  /** Keep what is read afresh (keptFeaturesKey of the settings). */
  keep: { settingsKey: string };
  /**
   * The read's COMMIT sent with the connection's next BEGIN (BatchTenantSql.transaction's `commitWithNext`): an
   * organization of one chunk, whose write follows on the same connection (one round trip fewer).
   */
  commitWithNext?: boolean;
}

/**
 * The read-features phase of an organization-wide recompute, for one chunk, in one transaction on the run's own
 * connection: the kept features rolled forward, and the others read afresh (and kept); with nothing to reuse, or
 * most of the chunk without, the whole range afresh. `kept`: how many rows were rolled forward.
 */
export async function readChunk(
  repos: ScoringRepositories,
  db: BatchTenantSql,
  range: Extract<PatientSelector, { kind: 'range' }>,
  now: Date,
  o: ChunkReadOptions,
): Promise<{ rows: FeatureRow[]; kept: number }> {
  return db.transaction(async () => {
    if (o.reuse) {
      const kept = await repos.features.keptFeatures(db, range, now, o.settings, o.timeZone, o.history);
      if (kept.unkept.length <= FRESH_RANGE_SHARE * (kept.rows.length + kept.unkept.length)) {
        if (kept.unkept.length === 0) return { rows: kept.rows, kept: kept.rows.length };
        // A few thousand ids out of the organization's rows: index scans of each source table (the planner
        // estimated a sequential scan of the smaller ones cheaper: 110-140 ms against 10-30 ms per chunk).
        await db.query(
          kept.unkept.length <= GENERIC_PLAN_IDS
            ? `SELECT set_config('enable_seqscan', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`
            : `SET LOCAL enable_seqscan = off`,
        );
        const fresh = await repos.features.features(db, { kind: 'ids', ids: kept.unkept }, now, o.settings, o.timeZone, {
          referredNet: false,
          hasMetrics: true,
          keep: o.keep,
        });
        return { rows: kept.rows.concat(fresh), kept: kept.rows.length };
      }
    }
    return { rows: await repos.features.features(db, range, now, o.settings, o.timeZone, { referredNet: false, keep: o.keep }), kept: 0 };
  }, { local: ['enable_nestloop = off', 'max_parallel_workers_per_gather = 0'], commitWithNext: o.commitWithNext === true });
}
