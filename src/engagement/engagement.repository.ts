import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { nextDay } from 'src/common/time/calendar';
import { SurveyCounts } from 'src/engagement/domain/satisfaction';

export interface EngagementQuery {
  timeZone: string;
  granularity: string;
  /** Organization-local dates: first day, the day after the last, first day of the current month. */
  from: string;
  toExclusive: string;
  monthStart: string;
  now: Date;
}

export interface BucketRow {
  bucket: string;
  new_patients: number;
  returning_patients: number;
  engagement_score: number | null;
}

export interface EngagementFacts {
  totalPatients: number;
  newPatientsThisMonth: number;
  returningPatients: number;
  buckets: BucketRow[];
  surveys: SurveyCounts;
}

/**
 * How the overview was answered: from the rollup (`used`), or from the visits because the organization has no
 * rollup yet, has one in another time zone, or one whose cutoff is after today (a clock set back). The service
 * starts the rollup's upkeep from this (docs/queries/engagement-overview.md).
 */
export type RollupUse = 'used' | 'missing' | 'other-time-zone' | 'after-today';

export interface RollupStatus {
  use: RollupUse;
  /** The rollup's cutoff (`YYYY-MM-DD`) and last full build, when there is one. */
  cutoff: string | null;
  builtAt: Date | null;
  /** Today in the organization's time zone. */
  today: string;
}

export interface EngagementRead {
  facts: EngagementFacts;
  rollup: RollupStatus;
  /** Which statement answered: ENGAGEMENT_ROLLUP_SQL or ENGAGEMENT_SQL. */
  source: 'rollup' | 'visits';
}

/** Survey counts of the window `[from, to)` (instants), the same in both statements. */
const surveysCte = (from: string, to: string): string => `surveys AS (
  SELECT count(*) FILTER (WHERE r.satisfaction = 1)::int AS s1,
         count(*) FILTER (WHERE r.satisfaction = 2)::int AS s2,
         count(*) FILTER (WHERE r.satisfaction = 3)::int AS s3,
         count(*) FILTER (WHERE r.satisfaction = 4)::int AS s4,
         count(*) FILTER (WHERE r.satisfaction = 5)::int AS s5,
         count(r.nps)::int AS nps_answers,
         count(*) FILTER (WHERE r.nps >= 9)::int AS promoters,
         count(*) FILTER (WHERE r.nps <= 6)::int AS detractors
    FROM survey_responses r
   WHERE r.organization_id = $1 AND r.submitted_at >= ${from} AND r.submitted_at < ${to}
)`;

const TOTAL_PATIENTS = `(SELECT coalesce(sum(c.patients), 0)::int FROM patient_metric_counts c WHERE c.organization_id = $1)`;

/**
 * The overview from the visits themselves, in one statement ($4/$5: the window as instants, `to` capped at now;
 * $6: the month's start; $7: now). A "visit" is a completed appointment at or before now. Used when the
 * organization's rollup is missing or in another time zone; several seconds for a 12-week window at a million
 * patients (docs/queries/engagement-overview.md).
 * `seen`: each patient with a visit in the window, per bucket (organization-local calendar), and `month_seen`: each
 * patient with a visit this month, both from the partial index on completed appointments by time (index-only);
 * `pats`: those patients with their first visit ever (`patient_metrics.first_visit_at`, else one index probe) and
 * engagement score. Soft-deleted patients still count in the buckets of the visits they made (history), not in
 * `total_patients`, which comes from the trigger-maintained `patient_metric_counts` (the patient list's total).
 */
export const ENGAGEMENT_SQL = `
WITH seen AS (
  SELECT DISTINCT a.patient_id, date_trunc($3, a.starts_at AT TIME ZONE $2)::date AS bucket
    FROM appointments a
   WHERE a.organization_id = $1 AND a.status = 'completed' AND a.starts_at >= $4 AND a.starts_at < $5
), month_seen AS (
  SELECT DISTINCT a.patient_id
    FROM appointments a
   WHERE a.organization_id = $1 AND a.status = 'completed' AND a.starts_at >= $6 AND a.starts_at <= $7
), pats AS (
  SELECT s.patient_id, m.engagement_score,
         coalesce(m.first_visit_at,
                  (SELECT a.starts_at FROM appointments a
                    WHERE a.organization_id = $1 AND a.patient_id = s.patient_id AND a.status = 'completed'
                    ORDER BY a.starts_at LIMIT 1)) AS first_visit
    FROM (SELECT patient_id FROM seen UNION SELECT patient_id FROM month_seen) s
    LEFT JOIN patient_metrics m ON m.organization_id = $1 AND m.patient_id = s.patient_id
), per_bucket AS (
  SELECT w.bucket,
         count(*) FILTER (WHERE p.first_visit >= (w.bucket::timestamp AT TIME ZONE $2))::int AS new_patients,
         count(*) FILTER (WHERE p.first_visit < (w.bucket::timestamp AT TIME ZONE $2))::int AS returning_patients,
         avg(p.engagement_score)::float8 AS engagement_score
    FROM seen w JOIN pats p ON p.patient_id = w.patient_id
   GROUP BY w.bucket
), ${surveysCte('$4', '$5')}
SELECT ${TOTAL_PATIENTS} AS total_patients,
       (SELECT count(*)::int FROM month_seen s JOIN pats p ON p.patient_id = s.patient_id WHERE p.first_visit >= $6) AS new_patients_this_month,
       (SELECT count(DISTINCT w.patient_id)::int FROM seen w JOIN pats p ON p.patient_id = w.patient_id WHERE p.first_visit < $4) AS returning_patients,
       (SELECT coalesce(json_agg(json_build_object('bucket', to_char(bucket, 'YYYY-MM-DD'), 'new_patients', new_patients,
                                                   'returning_patients', returning_patients, 'engagement_score', engagement_score)
                                 ORDER BY bucket), '[]') FROM per_bucket) AS buckets,
       (SELECT row_to_json(surveys) FROM surveys) AS surveys`;

/**
 * The same overview from the rollup (docs/queries/engagement-overview.md): `engagement_visit_gaps` holds, per
 * organization-local visit day and the day of the same patient's previous visit (`-infinity` before a first
 * visit), how many patients made that step and the sum of their scores, for the visits before the cutoff ($10, its
 * midnight $11). The patients with a visit in a range of days are the steps inside it whose previous visit is
 * before it, one step per patient, so distinct counts need no visit at all:
 * - a bucket's patients: its steps with `prev` before the bucket (or before `from`, for a first bucket cut by it);
 *   new among them: first visits (`prev = -infinity`), plus, for a cut first bucket, the patients whose first visit
 *   is in the bucket before `from` (`carried`, from `engagement_patient_days` by first day);
 * - the window's returning patients: steps in it whose previous visit is before `from`;
 * - new this month: first visits from the month's first day ($6).
 * Visits from the cutoff's midnight to now ($7) are read from `appointments` and turned into the same steps
 * (`open_steps`: the previous visit is the patient's last rolled-up day, else the previous open one), with the
 * rolled-up score, or `patient_metrics` for a patient not rolled up yet. $4/$5: the window as local dates (`to`
 * exclusive, at most tomorrow); $8/$9 as instants (surveys). `cutoff` comes back null when the rollup is no longer
 * the one read just before (cutoff $10 in time zone $2): the caller then answers from the visits.
 */
export const ENGAGEMENT_ROLLUP_SQL = `
WITH r AS (
  SELECT x.cutoff FROM engagement_rollups x WHERE x.organization_id = $1 AND x.cutoff = $10::date AND x.timezone = $2
), open_visits AS (
  SELECT DISTINCT a.patient_id, (a.starts_at AT TIME ZONE $2)::date AS day
    FROM appointments a
   WHERE a.organization_id = $1 AND a.status = 'completed' AND a.starts_at >= $11 AND a.starts_at <= $7
), open_steps AS (
  SELECT o.day,
         coalesce(lag(o.day) OVER (PARTITION BY o.patient_id ORDER BY o.day), s.last_day, '-infinity') AS prev,
         coalesce(s.first_day, min(o.day) OVER (PARTITION BY o.patient_id)) AS first_day,
         (CASE WHEN s.rolled_up THEN s.engagement_score
               ELSE (SELECT m.engagement_score FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = o.patient_id)
          END)::float8 AS score
    FROM open_visits o
    -- One primary-key probe per open visit (a day's worth): never a hash of the organization's million rows.
    LEFT JOIN LATERAL (SELECT true AS rolled_up, d.first_day, d.days[cardinality(d.days)] AS last_day, d.engagement_score
                         FROM engagement_patient_days d WHERE d.organization_id = $1 AND d.patient_id = o.patient_id LIMIT 1) s ON true
), steps AS (
  SELECT g.day, g.prev, g.patients, g.score_sum, g.scored
    FROM engagement_visit_gaps g
   WHERE g.organization_id = $1 AND ((g.day >= $4::date AND g.day < $5::date) OR g.day >= $6::date)
  UNION ALL
  SELECT day, prev, 1, coalesce(score, 0), (score IS NOT NULL)::int FROM open_steps
), win AS (
  SELECT date_trunc($3, day::timestamp)::date AS bucket, prev, patients, score_sum, scored
    FROM steps WHERE day >= $4::date AND day < $5::date
), per_bucket AS (
  SELECT bucket,
         coalesce(sum(patients) FILTER (WHERE prev < greatest(bucket, $4::date)), 0)::int AS seen,
         coalesce(sum(patients) FILTER (WHERE prev = '-infinity'), 0)::int AS first_visits,
         sum(score_sum) FILTER (WHERE prev < greatest(bucket, $4::date)) AS score_sum,
         coalesce(sum(scored) FILTER (WHERE prev < greatest(bucket, $4::date)), 0)::int AS scored
    FROM win GROUP BY bucket
), first_bucket AS (
  SELECT date_trunc($3, $4::date::timestamp)::date AS start,
         least((date_trunc($3, $4::date::timestamp) + ('1 ' || $3)::interval)::date, $5::date) AS stop
), carried AS (
  SELECT (SELECT count(*) FROM engagement_patient_days s, first_bucket f
           WHERE s.organization_id = $1 AND s.first_day >= f.start AND s.first_day < $4::date
             AND EXISTS (SELECT 1 FROM unnest(s.days) d WHERE d >= $4::date AND d < f.stop))
       + (SELECT count(*) FROM open_steps o, first_bucket f
           WHERE o.day >= $4::date AND o.day < f.stop AND o.prev < $4::date AND o.first_day >= f.start AND o.first_day < $4::date) AS n
), buckets AS MATERIALIZED (
  SELECT b.bucket, b.first_visits + CASE WHEN b.bucket < $4::date THEN (SELECT n FROM carried) ELSE 0 END AS new_patients,
         b.seen, b.score_sum, b.scored
    FROM per_bucket b WHERE b.seen > 0
), ${surveysCte('$8', '$9')}
SELECT (SELECT cutoff::text FROM r) AS cutoff,
       ${TOTAL_PATIENTS} AS total_patients,
       (SELECT coalesce(sum(patients), 0)::int FROM steps WHERE day >= $6::date AND prev = '-infinity') AS new_patients_this_month,
       (SELECT coalesce(sum(patients), 0)::int FROM win WHERE prev < $4::date AND prev > '-infinity') AS returning_patients,
       (SELECT coalesce(json_agg(json_build_object('bucket', to_char(bucket, 'YYYY-MM-DD'), 'new_patients', new_patients,
                                                   'returning_patients', seen - new_patients,
                                                   'engagement_score', score_sum / nullif(scored, 0))
                                 ORDER BY bucket), '[]') FROM buckets) AS buckets,
       (SELECT row_to_json(surveys) FROM surveys) AS surveys`;

/**
 * Organization-local midnights as instants (so that the statements are planned on constants), today's local date,
 * and the organization's rollup (cutoff, its midnight in the asked time zone, time zone, last build).
 */
const BOUNDS_SQL = `
SELECT ($2::date::timestamp AT TIME ZONE $1) AS from_ts, ($3::date::timestamp AT TIME ZONE $1) AS to_ts,
       ($4::date::timestamp AT TIME ZONE $1) AS month_ts, ($5::timestamptz AT TIME ZONE $1)::date::text AS today,
       x.cutoff::text AS cutoff, (x.cutoff::timestamp AT TIME ZONE $1) AS cutoff_at, x.timezone, x.built_at
  FROM (SELECT 1) one
  LEFT JOIN engagement_rollups x ON x.organization_id = $6`;

interface Bounds {
  from_ts: Date;
  to_ts: Date;
  month_ts: Date;
  today: string;
  cutoff: string | null;
  cutoff_at: Date | null;
  timezone: string | null;
  built_at: Date | null;
}

interface Row {
  cutoff?: string | null;
  total_patients: number;
  new_patients_this_month: number;
  returning_patients: number;
  buckets: BucketRow[];
  surveys: { s1: number; s2: number; s3: number; s4: number; s5: number; nps_answers: number; promoters: number; detractors: number };
}

export interface Statement {
  sql: string;
  params: unknown[];
}

/** A function that runs one parameterized statement and returns its rows (a tenant handle's, or a pg client's). */
export type RunQuery = <T>(sql: string, params: unknown[]) => Promise<T[]>;

/**
 * Reads the bounds and the rollup's state, and returns the statements that answer `q`: ENGAGEMENT_ROLLUP_SQL when
 * the rollup is usable (null otherwise) and ENGAGEMENT_SQL, with their parameters (the repository and
 * bench/journey-explain.ts share this).
 */
export async function engagementStatements(
  run: RunQuery,
  organizationId: string,
  q: EngagementQuery,
): Promise<{ rollup: RollupStatus; fromRollup: Statement | null; fromVisits: Statement }> {
  const [b] = await run<Bounds>(BOUNDS_SQL, [q.timeZone, q.from, q.toExclusive, q.monthStart, q.now, organizationId]);
  const toTs = b.to_ts.getTime() < q.now.getTime() ? b.to_ts : new Date(q.now.getTime() + 1);
  const use: RollupUse = b.cutoff === null ? 'missing' : b.timezone !== q.timeZone ? 'other-time-zone' : b.cutoff > b.today ? 'after-today' : 'used';
  const tomorrow = nextDay(b.today);
  return {
    rollup: { use, cutoff: b.cutoff, builtAt: b.built_at, today: b.today },
    fromRollup:
      use === 'used'
        ? {
            sql: ENGAGEMENT_ROLLUP_SQL,
            params: [
              organizationId,
              q.timeZone,
              q.granularity,
              q.from,
              q.toExclusive < tomorrow ? q.toExclusive : tomorrow,
              q.monthStart,
              q.now,
              b.from_ts,
              toTs,
              b.cutoff,
              b.cutoff_at,
            ],
          }
        : null,
    fromVisits: { sql: ENGAGEMENT_SQL, params: [organizationId, q.timeZone, q.granularity, b.from_ts, toTs, b.month_ts, q.now] },
  };
}

@Injectable()
export class EngagementRepository {
  /**
   * The overview's counts: from the rollup when the organization has a usable one, else from the visits
   * (`rollup: false` forces the visits: the rollup's tests compare both). In one read transaction (its SET LOCALs).
   */
  /**
   * The overview's counts from the rollup only: `facts` null when the organization has no usable rollup (see
   * `rollup.use`) or it moved between the two statements. Never reads the visits (seconds at a million patients).
   */
  async rollupFacts(db: TenantSql, q: EngagementQuery): Promise<{ facts: EngagementFacts | null; rollup: RollupStatus }> {
    const run: RunQuery = (sql, params) => db.query(sql, params);
    const { rollup, fromRollup } = await engagementStatements(run, db.organizationId, q);
    if (!fromRollup) return { facts: null, rollup };
    await db.query(`SET LOCAL jit = off`);
    await db.query(`SET LOCAL max_parallel_workers_per_gather = 0`);
    const [row] = await run<Row>(fromRollup.sql, fromRollup.params);
    return { facts: row.cutoff === null ? null : toFacts(row), rollup };
  }

  /** The rollup's state as an overview of `q` would find it (one cheap statement). */
  async rollupStatus(db: TenantSql, q: EngagementQuery): Promise<RollupStatus> {
    return (await engagementStatements((sql, params) => db.query(sql, params), db.organizationId, q)).rollup;
  }

  async facts(db: TenantSql, q: EngagementQuery, options: { rollup?: boolean } = {}): Promise<EngagementRead> {
    const run: RunQuery = (sql, params) => db.query(sql, params);
    const { rollup, fromRollup, fromVisits } = await engagementStatements(run, db.organizationId, q);
    if (fromRollup && options.rollup !== false) {
      // A cheap statement whose row estimates are generic: compiling it, or starting parallel workers for its
      // index-only survey count, would cost more than running it.
      await db.query(`SET LOCAL jit = off`);
      await db.query(`SET LOCAL max_parallel_workers_per_gather = 0`);
      const [row] = await run<Row>(fromRollup.sql, fromRollup.params);
      // Null: the rollup moved or was rebuilt between the two statements; the visits answer instead.
      if (row.cutoff !== null) return { facts: toFacts(row), rollup, source: 'rollup' };
    }
    // Hundreds of thousands of (patient, bucket) pairs: hash them in memory rather than sort them on disk.
    await db.query(`SET LOCAL work_mem = '64MB'`);
    const [row] = await run<Row>(fromVisits.sql, fromVisits.params);
    return { facts: toFacts(row), rollup, source: 'visits' };
  }
}

function toFacts(r: Row): EngagementFacts {
  const s = r.surveys;
  return {
    totalPatients: r.total_patients,
    newPatientsThisMonth: r.new_patients_this_month,
    returningPatients: r.returning_patients,
    buckets: r.buckets,
    surveys: {
      byRating: { 1: s.s1, 2: s.s2, 3: s.s3, 4: s.s4, 5: s.s5 },
      npsAnswers: s.nps_answers,
      promoters: s.promoters,
      detractors: s.detractors,
    },
  };
}
