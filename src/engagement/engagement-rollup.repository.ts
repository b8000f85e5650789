import { Injectable } from '@nestjs/common';
import { REBUILD_SETTINGS, setLocal } from 'src/database/tenant/rebuild-settings';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The write side of the engagement rollup (docs/queries/engagement-overview.md). Each operation is one transaction
 * under a per-organization advisory lock, so that builds, patches and cutoff moves of an organization (from any
 * process) apply one after the other; readers see the rollup before or after, never half of it.
 */

export interface RollupState {
  timezone: string;
  /** `YYYY-MM-DD`: completed visits on earlier local days are rolled up. */
  cutoff: string;
  builtAt: Date;
}

export interface BuildResult {
  organizationId: string;
  timezone: string;
  cutoff: string;
  patients: number;
  steps: number;
  durationMs: number;
}

/**
 * Each patient's visit days before the cutoff ($3, an instant): distinct organization-local dates, ascending.
 * (Exported with `stepsSql` for `npm run bench:write`, whose floor runs the two as one read.)
 */
export const patientDaysSql = (patientFilter: string, metricsFilter = ''): string => `
SELECT $1::uuid AS organization_id, v.patient_id, v.days[1] AS first_day, v.days, m.engagement_score
  FROM (SELECT a.patient_id, array_agg(DISTINCT (a.starts_at AT TIME ZONE $2)::date ORDER BY (a.starts_at AT TIME ZONE $2)::date) AS days
          FROM appointments a
         WHERE a.organization_id = $1 AND a.status = 'completed' AND a.starts_at < $3 ${patientFilter}
         GROUP BY a.patient_id) v
  LEFT JOIN patient_metrics m ON m.organization_id = $1 AND m.patient_id = v.patient_id ${metricsFilter}`;

/** The steps (visit day, previous visit day) of the rows of `source` (days, engagement_score), times `sign`. */
export const stepsSql = (source: string, sign: '' | '-'): string => `
SELECT s.days[i] AS day, CASE WHEN i = 1 THEN '-infinity'::date ELSE s.days[i - 1] END AS prev,
       ${sign}count(*)::int AS patients, ${sign}coalesce(sum(s.engagement_score::float8), 0) AS score_sum,
       ${sign}count(s.engagement_score)::int AS scored
  FROM ${source} s CROSS JOIN LATERAL generate_subscripts(s.days, 1) AS i
 GROUP BY 1, 2`;

/** Build, first statement ($1 org, $2 time zone, $3 cutoff instant): every patient's visit days; returns the count. */
export const BUILD_PATIENT_DAYS_SQL = `
WITH ins AS (INSERT INTO engagement_patient_days (organization_id, patient_id, first_day, days, engagement_score) ${patientDaysSql('')} RETURNING 1)
SELECT count(*)::int AS n FROM ins`;

/** Build, second statement ($1 org): the steps of all the organization's patients; returns the count. */
export const BUILD_STEPS_SQL = `
WITH ins AS (INSERT INTO engagement_visit_gaps (organization_id, day, prev, patients, score_sum, scored)
             SELECT $1, day, prev, patients, score_sum, scored
               FROM (${stepsSql('(SELECT days, engagement_score FROM engagement_patient_days WHERE organization_id = $1)', '')}) t
             RETURNING 1)
SELECT count(*)::int AS n FROM ins`;

/**
 * The steps `s` (day, prev, patients, score_sum, scored) compared with the organization's ($1) stored ones: a step
 * that is the same already is left alone, a changed one updated, a new one inserted, and the steps nobody makes any
 * more deleted. CTEs of a statement that defines `s` (the rebuild's, and the swap's from its halves' partial steps).
 */
const STEPS_WRITE = `steps_diff AS (
  SELECT coalesce(s.day, g.day) AS day, coalesce(s.prev, g.prev) AS prev, s.day IS NULL AS gone, g.day IS NULL AS fresh,
         s.patients, s.score_sum, s.scored
    FROM s FULL JOIN (SELECT * FROM engagement_visit_gaps WHERE organization_id = $1) g ON g.day = s.day AND g.prev = s.prev
   WHERE s.day IS NULL OR g.day IS NULL OR (g.patients, g.score_sum, g.scored) IS DISTINCT FROM (s.patients, s.score_sum, s.scored)),
steps_new AS (
  INSERT INTO engagement_visit_gaps (organization_id, day, prev, patients, score_sum, scored)
  SELECT $1, day, prev, patients, score_sum, scored FROM steps_diff WHERE fresh),
steps_up AS (
  UPDATE engagement_visit_gaps g SET patients = x.patients, score_sum = x.score_sum, scored = x.scored
    FROM steps_diff x
   WHERE g.organization_id = $1 AND g.day = x.day AND g.prev = x.prev AND NOT x.fresh AND NOT x.gone),
steps_gone AS (
  DELETE FROM engagement_visit_gaps g USING steps_diff x
   WHERE g.organization_id = $1 AND g.day = x.day AND g.prev = x.prev AND x.gone)`;

/** The rollup's row ($1 org, $2 time zone, $3 cutoff, $4 built at, $5 duration in ms), inserted or replaced. */
const SAVE_SQL = `
INSERT INTO engagement_rollups (organization_id, timezone, cutoff, built_at, duration_ms) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (organization_id) DO UPDATE
   SET timezone = EXCLUDED.timezone, cutoff = EXCLUDED.cutoff, built_at = EXCLUDED.built_at, duration_ms = EXCLUDED.duration_ms`;

/**
 * A large organization's build by build and swap, one half ($1 org, $2 time zone, $3 cutoff instant, $4 after this
 * patient id, $5 up to this one or null): the half's patients' visit days inserted into the fresh table `days` (the
 * organization's next partition of `engagement_patient_days`), and the steps of those patients into `steps` (a table
 * without a key: each half's partial steps, summed by the swap: swapStepsSql). Returns the half's patients.
 */
export const buildHalfSql = (days: string, steps: string): string => `
WITH n AS MATERIALIZED (
  ${patientDaysSql('AND a.patient_id > $4 AND ($5::uuid IS NULL OR a.patient_id <= $5::uuid)', 'AND m.patient_id > $4 AND ($5::uuid IS NULL OR m.patient_id <= $5::uuid)')}),
-- Written from the CTE, not RETURNING from the insert: the runtime role may only insert into the fresh tables.
d AS (
  INSERT INTO ${days} (organization_id, patient_id, first_day, days, engagement_score)
  SELECT organization_id, patient_id, first_day, days, engagement_score FROM n),
s AS (
  INSERT INTO ${steps} (organization_id, day, prev, patients, score_sum, scored)
  SELECT $1, day, prev, patients, score_sum, scored FROM (${stepsSql('n', '')}) t)
SELECT (SELECT count(*) FROM n)::int AS patients`;

/**
 * The swap's steps ($1 org): the halves' partial steps in `partial` summed, and written as the rebuild writes its own
 * (STEPS_WRITE). Returns the steps counted. On the owner's connection, in the swap's transaction.
 */
export const swapStepsSql = (partial: string): string => `
WITH s AS MATERIALIZED (
  SELECT day, prev, sum(patients)::int AS patients, sum(score_sum) AS score_sum, sum(scored)::int AS scored
    FROM ${partial} WHERE organization_id = $1 GROUP BY day, prev),
${STEPS_WRITE}
SELECT (SELECT count(*) FROM s)::int AS steps`;

/**
 * Build, one statement ($1 org, $2 time zone, $3 cutoff instant): every patient's visit days and the steps between
 * them, computed once and compared with the organization's rows: a row that is the same already is left alone, a
 * changed one updated (by a plain UPDATE: after a recompute most rows change, and in place, HOT, since no indexed
 * column moves with a score), a new one inserted, and the rows nobody has any more deleted. Returns the patients and
 * steps counted. (Measured: docs/performance.md, "The engagement rebuild updates in place".)
 */
const rebuildSql = (head: string, tail: string, columns: string): string => `
WITH ${head}n AS MATERIALIZED (${patientDaysSql('')}),
s AS MATERIALIZED (${stepsSql('n', '')}),
-- Full joins (merge or hash whatever the estimates; the coalesce keeps them from becoming anti-joins) of the new rows
-- with the stored ones: only the rows that differ are written (an upsert of every row would lock each stored one).
days_diff AS (
  SELECT coalesce(n.patient_id, d.patient_id) AS patient_id, n.patient_id IS NULL AS gone, d.patient_id IS NULL AS fresh,
         n.first_day, n.days, n.engagement_score
    FROM n FULL JOIN (SELECT * FROM engagement_patient_days WHERE organization_id = $1) d ON d.patient_id = n.patient_id
   WHERE n.patient_id IS NULL OR d.patient_id IS NULL OR (d.days, d.engagement_score) IS DISTINCT FROM (n.days, n.engagement_score)),
-- A changed row is updated (in place when its page has room: fillfactor 50, migration 1795568200000; an upsert would
-- probe the key and lock the row before updating it), a new one inserted.
days_new AS (
  INSERT INTO engagement_patient_days (organization_id, patient_id, first_day, days, engagement_score)
  SELECT $1, patient_id, first_day, days, engagement_score FROM days_diff WHERE fresh),
days_up AS (
  UPDATE engagement_patient_days d SET first_day = x.first_day, days = x.days, engagement_score = x.engagement_score
    FROM days_diff x
   WHERE d.organization_id = $1 AND d.patient_id = x.patient_id AND NOT x.fresh AND NOT x.gone),
days_gone AS (
  DELETE FROM engagement_patient_days d USING days_diff x
   WHERE d.organization_id = $1 AND d.patient_id = x.patient_id AND x.gone),
${STEPS_WRITE}${tail}
SELECT (SELECT count(*) FROM n)::int AS patients, (SELECT count(*) FROM s)::int AS steps${columns}`;

export const REBUILD_SQL = rebuildSql('', '', '');

/**
 * REBUILD_SQL with its cutoff and its save in the same statement ($1 org, $2 time zone, $3 now, $4 the milliseconds
 * the build took before this statement): the cutoff computed from `now` in the time zone as the separate statement
 * computed it (`c`, the same expressions, the same parameters: the time zone is the one validated in Node), and the
 * rollup's row written (`saved`, the upsert `rebuild` sends after it otherwise), with the statement's own time added
 * to the duration. Returns the cutoff and the duration besides the counts. Three round trips become one (a small
 * organization's nightly follow-up, prepared).
 */
export const REBUILD_AND_SAVE_SQL = rebuildSql(
  `c AS MATERIALIZED (
  SELECT ($3::timestamptz AT TIME ZONE $2)::date AS cutoff, (($3::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at),
`,
  `,
saved AS (
  INSERT INTO engagement_rollups (organization_id, timezone, cutoff, built_at, duration_ms)
  SELECT $1, $2, c.cutoff, $3::timestamptz, $4::int + (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::int
    FROM c
  ON CONFLICT (organization_id) DO UPDATE
     SET timezone = EXCLUDED.timezone, cutoff = EXCLUDED.cutoff, built_at = EXCLUDED.built_at, duration_ms = EXCLUDED.duration_ms
  RETURNING duration_ms)`,
  `, (SELECT c.cutoff::text FROM c) AS cutoff, (SELECT saved.duration_ms FROM saved) AS duration_ms`,
).replace('a.starts_at < $3 ', 'a.starts_at < (SELECT c.cutoff_at FROM c) ');

const ADD_STEPS = `
INSERT INTO engagement_visit_gaps AS g (organization_id, day, prev, patients, score_sum, scored)
SELECT $1, day, prev, patients, score_sum, scored FROM delta
ON CONFLICT (organization_id, day, prev) DO UPDATE
   SET patients = g.patients + EXCLUDED.patients, score_sum = g.score_sum + EXCLUDED.score_sum, scored = g.scored + EXCLUDED.scored
RETURNING g.day::text AS day`;

/** Patch, first half ($1 org, $2 patient ids): the patients' rows go, and their steps are taken out. */
const TAKE_OUT_SQL = `
WITH old AS (
  DELETE FROM engagement_patient_days WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])
  RETURNING days, engagement_score
), delta AS (${stepsSql('old', '-')})
${ADD_STEPS}`;

/** Patch, second half ($1 org, $2 time zone, $3 cutoff instant, $4 patient ids): their rows from the records again. */
const PUT_BACK_SQL = `
WITH fresh AS (
  INSERT INTO engagement_patient_days (organization_id, patient_id, first_day, days, engagement_score)
  ${patientDaysSql('AND a.patient_id = ANY($4::uuid[])')}
  RETURNING days, engagement_score
), delta AS (${stepsSql('fresh', '')})
${ADD_STEPS}`;

/**
 * The rollup's statements. Each runs on the caller's tenant handle; `rebuild`, `patch` and `advance` change several
 * tables together, so they belong in one transaction that holds `lock` (EngagementRollupService does both).
 */
@Injectable()
export class EngagementRollupRepository {
  /** One writer of an organization's rollup at a time (a transaction-scoped advisory lock). */
  async lock(db: TenantSql): Promise<void> {
    await db.query(`SELECT pg_advisory_xact_lock(hashtextextended('engagement-rollup:' || $1, 0))`, [db.organizationId]);
  }

  /**
   * `lock` and the organization's time zone (null: no organization row) in one statement, prepared (a small
   * organization's rebuild: JobService.runTogether). The time zone is not what the lock guards.
   */
  async lockWithTimeZone(db: TenantSql): Promise<string | null> {
    const rows = await db.query<{ timezone: string | null }>(
      `SELECT pg_advisory_xact_lock(hashtextextended('engagement-rollup:' || $2::text, 0)) AS locked,
              (SELECT o.timezone FROM organizations o WHERE o.id = $1) AS timezone`,
      [db.organizationId, db.organizationId],
      { prepare: 'engagement-rollup-lock-timezone' },
    );
    return rows[0]?.timezone ?? null;
  }

  async state(db: TenantSql): Promise<RollupState | null> {
    const rows = await db.query<{ timezone: string; cutoff: string; built_at: Date }>(
      `SELECT timezone, cutoff::text AS cutoff, built_at FROM engagement_rollups WHERE organization_id = $1`,
      [db.organizationId],
    );
    return rows[0] ? { timezone: rows[0].timezone, cutoff: rows[0].cutoff, builtAt: rows[0].built_at } : null;
  }

  /**
   * Builds the organization's rollup from scratch in `timeZone`, with the cutoff at `now`'s local date: every
   * completed visit before today is rolled up. Replaces the previous one in the caller's transaction. `settings`
   * false: the transaction has its settings already (JobService.runTogether's REBUILD_SETTINGS). `prepare`: its
   * statements prepared on the connection (a small organization's nightly follow-up, run for thousands a night), and
   * the cutoff, the build and the save as one (REBUILD_AND_SAVE_SQL; the duration then the server's time to the save).
   */
  async rebuild(db: TenantSql, timeZone: string, now: Date, options: { settings?: boolean; prepare?: boolean } = {}): Promise<BuildResult> {
    const named = (name: string): { prepare: string } | undefined => (options.prepare ? { prepare: `engagement-rollup-${name}` } : undefined);
    const started = Date.now();
    const organizationId = db.organizationId;
    // ~1 M patients' arrays and ~0.5 M steps hashed in memory rather than sorted on disk, for this transaction.
    // The aggregation's expressions are cheap; compiling them (JIT) is not (the floor runs without it too). One round
    // trip (no parameters: the simple protocol takes both).
    if (options.settings !== false) await db.query(setLocal(REBUILD_SETTINGS));
    if (options.prepare) {
      // The cutoff, the build and the save in one statement (REBUILD_AND_SAVE_SQL): one round trip instead of three.
      const [r] = await db.query<{ patients: number; steps: number; cutoff: string; duration_ms: number }>(
        REBUILD_AND_SAVE_SQL,
        [organizationId, timeZone, now, Date.now() - started],
        named('rebuild-save'),
      );
      return { organizationId, timezone: timeZone, cutoff: r.cutoff, patients: r.patients, steps: r.steps, durationMs: r.duration_ms };
    }
    const c = await this.cutoff(db, timeZone, now, named('cutoff'));
    const [{ patients, steps: stepRows }] = await db.query<{ patients: number; steps: number }>(
      REBUILD_SQL,
      [organizationId, timeZone, c.cutoffAt],
      named('rebuild'),
    );
    const durationMs = Date.now() - started;
    await db.query(SAVE_SQL, [organizationId, timeZone, c.cutoff, now, durationMs], named('save'));
    return { organizationId, timezone: timeZone, cutoff: c.cutoff, patients, steps: stepRows, durationMs };
  }

  /** The cutoff of a build at `now` in `timeZone`: its local date, and the instant of that midnight. */
  async cutoff(db: TenantSql, timeZone: string, now: Date, prepare?: { prepare: string }): Promise<{ cutoff: string; cutoffAt: Date }> {
    const [c] = await db.query<{ cutoff: string; cutoff_at: Date }>(
      `SELECT ($1::timestamptz AT TIME ZONE $2)::date::text AS cutoff, (($1::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at`,
      [now, timeZone],
      prepare,
    );
    return { cutoff: c.cutoff, cutoffAt: c.cutoff_at };
  }

  /**
   * One half of a large organization's build and swap (buildHalfSql): the patients after `after` (null: from the
   * first) up to `upTo` (null: to the last), into the fresh tables; returns their number.
   */
  async buildHalf(
    db: TenantSql,
    tables: { days: string; steps: string },
    o: { timeZone: string; cutoffAt: Date; after: string | null; upTo: string | null },
  ): Promise<number> {
    const [{ patients }] = await db.query<{ patients: number }>(buildHalfSql(tables.days, tables.steps), [
      db.organizationId,
      o.timeZone,
      o.cutoffAt,
      o.after ?? NIL_UUID,
      o.upTo,
    ]);
    return patients;
  }

  /**
   * The swap's own statements, on the owner's connection (`owner`, in its transaction, under the swap's locks): the
   * halves' partial steps written as the organization's steps (swapStepsSql), then the rollup's row saved. Returns
   * the steps.
   */
  async saveSwapped(
    owner: { query<R>(text: string, params?: readonly unknown[]): Promise<R[]> },
    partial: string,
    state: { organizationId: string; timeZone: string; cutoff: string; builtAt: Date; durationMs: number },
  ): Promise<number> {
    const [{ steps }] = await owner.query<{ steps: number }>(swapStepsSql(partial), [state.organizationId]);
    await owner.query(SAVE_SQL, [state.organizationId, state.timeZone, state.cutoff, state.builtAt, state.durationMs]);
    return steps;
  }

  /** How many of these patients have a row in the rollup. */
  async patientRows(db: TenantSql, patientIds: readonly string[]): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM engagement_patient_days WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])`,
      [db.organizationId, patientIds],
    );
    return n;
  }

  /**
   * Takes these patients' contributions out and puts them back from their current records and scores (after a
   * recompute or an ingestion). Idempotent. False when the organization has no rollup (its first build sees them).
   */
  async patch(db: TenantSql, patientIds: readonly string[]): Promise<boolean> {
    const state = await this.state(db);
    if (!state) return false;
    await this.replace(db, state, [...new Set(patientIds)]);
    return true;
  }

  /**
   * Moves the cutoff to `today` (local date): the patients with a completed visit between the two midnights are
   * patched with the new cutoff, so that the open part of the overview (visits read from `appointments`) stays
   * about a day. False when there is no rollup, it is in another time zone, or the cutoff is already there.
   */
  async advance(db: TenantSql, timeZone: string, today: string): Promise<boolean> {
    const state = await this.state(db);
    if (!state || state.timezone !== timeZone || state.cutoff >= today) return false;
    const [{ ids }] = await db.query<{ ids: string[] | null }>(
      `SELECT array_agg(DISTINCT a.patient_id) AS ids FROM appointments a
        WHERE a.organization_id = $1 AND a.status = 'completed'
          AND a.starts_at >= ($2::date::timestamp AT TIME ZONE $4) AND a.starts_at < ($3::date::timestamp AT TIME ZONE $4)`,
      [db.organizationId, state.cutoff, today, timeZone],
    );
    const moved = { ...state, cutoff: today };
    await this.replace(db, moved, ids ?? []);
    await db.query(`UPDATE engagement_rollups SET cutoff = $2 WHERE organization_id = $1`, [db.organizationId, today]);
    return true;
  }

  private async replace(db: TenantSql, state: RollupState, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const [cutoff] = await db.query<{ at: Date }>(`SELECT ($1::date::timestamp AT TIME ZONE $2) AS at`, [state.cutoff, state.timezone]);
    const out = await db.query<{ day: string }>(TAKE_OUT_SQL, [db.organizationId, ids]);
    const back = await db.query<{ day: string }>(PUT_BACK_SQL, [db.organizationId, state.timezone, cutoff.at, ids]);
    const days = [...new Set([...out, ...back].map((r) => r.day))];
    // Steps nobody makes any more (they would count nothing, but would be read). The organization unseen by the planner
    // (UNSEEN_ORGANIZATION): after a large clinic's first build beside others, statistics taken before it estimated
    // its steps at one row, and the primary key was probed by organization alone, every step of the clinic read for
    // each patch (130-170 ms at a million patients' 232,557 steps, against a few with the days in the probe).
    await db.query(`DELETE FROM engagement_visit_gaps WHERE organization_id = ${UNSEEN_ORGANIZATION} AND day = ANY($2::date[]) AND patients = 0 AND scored = 0`, [
      db.organizationId,
      days,
    ]);
  }
}
