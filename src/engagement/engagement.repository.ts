import { Injectable } from '@nestjs/common';
import { TenantDb } from 'src/common/database/tenant-db';
import { SurveyCounts } from './domain/satisfaction';

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
 * Everything the overview counts, in one statement ($4/$5: the window as instants, `to` capped at now; $6: the
 * month's start; $7: now). A "visit" is a completed appointment at or before now.
 * `seen`: each patient with a visit in the window, per bucket (organization-local calendar), and `month_seen`: each
 * patient with a visit this month, both from the partial index on completed appointments by time (index-only);
 * `pats`: those patients with their first visit ever (`patient_metrics.first_visit_at`, else one index probe) and
 * engagement score. Soft-deleted patients still count in the buckets of the visits they made (history), not in
 * `total_patients`, which comes from the trigger-maintained `patient_metric_counts` (the patient list's total).
 * Plan in docs/queries/engagement-overview.md.
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
), surveys AS (
  SELECT count(*) FILTER (WHERE r.satisfaction = 1)::int AS s1,
         count(*) FILTER (WHERE r.satisfaction = 2)::int AS s2,
         count(*) FILTER (WHERE r.satisfaction = 3)::int AS s3,
         count(*) FILTER (WHERE r.satisfaction = 4)::int AS s4,
         count(*) FILTER (WHERE r.satisfaction = 5)::int AS s5,
         count(r.nps)::int AS nps_answers,
         count(*) FILTER (WHERE r.nps >= 9)::int AS promoters,
         count(*) FILTER (WHERE r.nps <= 6)::int AS detractors
    FROM survey_responses r
   WHERE r.organization_id = $1 AND r.submitted_at >= $4 AND r.submitted_at < $5
)
SELECT (SELECT coalesce(sum(c.patients), 0)::int FROM patient_metric_counts c WHERE c.organization_id = $1) AS total_patients,
       (SELECT count(*)::int FROM month_seen s JOIN pats p ON p.patient_id = s.patient_id WHERE p.first_visit >= $6) AS new_patients_this_month,
       (SELECT count(DISTINCT w.patient_id)::int FROM seen w JOIN pats p ON p.patient_id = w.patient_id WHERE p.first_visit < $4) AS returning_patients,
       (SELECT coalesce(json_agg(json_build_object('bucket', to_char(bucket, 'YYYY-MM-DD'), 'new_patients', new_patients,
                                                   'returning_patients', returning_patients, 'engagement_score', engagement_score)
                                 ORDER BY bucket), '[]') FROM per_bucket) AS buckets,
       (SELECT row_to_json(surveys) FROM surveys) AS surveys`;

/** Organization-local midnights as instants (one round trip, so that the main statement is planned on constants). */
const BOUNDS_SQL = `SELECT ($2::date::timestamp AT TIME ZONE $1) AS from_ts, ($3::date::timestamp AT TIME ZONE $1) AS to_ts,
                           ($4::date::timestamp AT TIME ZONE $1) AS month_ts`;

interface Row {
  total_patients: number;
  new_patients_this_month: number;
  returning_patients: number;
  buckets: BucketRow[];
  surveys: { s1: number; s2: number; s3: number; s4: number; s5: number; nps_answers: number; promoters: number; detractors: number };
}

@Injectable()
export class EngagementRepository {
  constructor(private readonly tenantDb: TenantDb) {}

  /** The organization's IANA time zone (null when the organization does not exist). */
  async timeZone(organizationId: string): Promise<string | null> {
    const rows = await this.tenantDb.run(organizationId, (m) =>
      m.query<{ timezone: string }[]>(`SELECT timezone FROM organizations WHERE id = $1`, [organizationId]),
    );
    return rows[0]?.timezone ?? null;
  }

  async facts(organizationId: string, q: EngagementQuery): Promise<EngagementFacts> {
    const rows = await this.tenantDb.run(organizationId, async (m) => {
      const [b] = await m.query<{ from_ts: Date; to_ts: Date; month_ts: Date }[]>(BOUNDS_SQL, [
        q.timeZone,
        q.from,
        q.toExclusive,
        q.monthStart,
      ]);
      // Hundreds of thousands of (patient, bucket) pairs: hash them in memory rather than sort them on disk.
      await m.query(`SET LOCAL work_mem = '64MB'`);
      const toTs = b.to_ts.getTime() < q.now.getTime() ? b.to_ts : new Date(q.now.getTime() + 1);
      return m.query<Row[]>(ENGAGEMENT_SQL, [organizationId, q.timeZone, q.granularity, b.from_ts, toTs, b.month_ts, q.now]);
    });
    const r = rows[0];
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
}
