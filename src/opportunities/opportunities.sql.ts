import { DAY_MS } from 'src/common/time/calendar';
import { ALL_CHANNELS, grantToken } from 'src/consent/domain/consent-policy';
import { ConsentPurpose } from 'src/records/records.enums';
import { OpportunityPriority, OpportunityType, OutreachKind } from 'src/opportunities/opportunities.enums';
import {
  DEFAULT_PLAN_CADENCE_DAYS,
  OVERDUE_MARGIN_SHARE,
  OVERDUE_MIN_MARGIN_DAYS,
  VALUE_HORIZON_DAYS,
} from 'src/opportunities/domain/opportunity-rules';
import { MIN_USUAL_INTERVAL_DAYS } from 'src/scoring/domain/visit-rhythm';

/** The candidates (live patients without an upcoming appointment) of both facts statements, one batch in id order. */
const CANDIDATES_PAGE = `WHERE m.organization_id = $1 AND p.deleted_at IS NULL
   AND (m.next_appointment_at IS NULL OR m.next_appointment_at <= $2)
   AND m.patient_id > $3
   AND ($5::uuid[] IS NULL OR m.patient_id = ANY($5::uuid[]))
   AND ($6::uuid IS NULL OR m.patient_id <= $6::uuid)
 ORDER BY m.patient_id
 LIMIT $4`;

/**
 * One batch of candidates (patients without an upcoming appointment), in patient id order, with what the rules
 * need: their metrics, consent, visit count and span, active treatment plan and whether one was completed.
 * ($1 organization, $2 now, $3 after this patient id, $4 limit, $5 only these patients or null, $6 up to this
 * patient id or null; `npm run bench:write` runs it whole as the refresh's floor.)
 */
export const FACTS_SQL = `
SELECT m.patient_id, m.status, m.risk_level, m.ltv_cents, m.success_probability, m.avg_session_value_cents,
       m.last_contact_at, m.next_appointment_at,
       p.marketing_consent, p.appointment_reminders, p.consent_grants, p.preferred_channel,
       v.visit_count, v.first_visit_at, v.last_visit_at,
       ap.remaining AS plan_remaining, ap.session_value_cents AS plan_session_value_cents,
       ap.started_at AS plan_started_at, ap.ends_at AS plan_ends_at, ap.planned_sessions AS plan_planned_sessions,
       EXISTS (SELECT 1 FROM treatment_plans t
                WHERE t.organization_id = $1 AND t.patient_id = m.patient_id AND t.status = 'completed') AS has_completed_plan
  FROM patient_metrics m
  JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS visit_count, min(a.starts_at) AS first_visit_at, max(a.starts_at) AS last_visit_at
      FROM appointments a
     WHERE a.organization_id = $1 AND a.patient_id = m.patient_id AND a.status = 'completed' AND a.starts_at <= $2) v
  LEFT JOIN LATERAL (
    SELECT t.planned_sessions - t.completed_sessions AS remaining, t.session_value_cents, t.started_at, t.ends_at, t.planned_sessions
      FROM treatment_plans t
     WHERE t.organization_id = $1 AND t.patient_id = m.patient_id AND t.status = 'active' AND t.planned_sessions > t.completed_sessions
     ORDER BY t.started_at DESC, t.id LIMIT 1) ap ON true
 ${CANDIDATES_PAGE}`;

/**
 * FACTS_SQL for a small organization's whole rebuild (the same parameters and the same rows): each source table read
 * once for the organization and joined by patient (hash joins: a few hundred rows each), where FACTS_SQL looks each
 * candidate up in `appointments` and twice in `treatment_plans` (correlated lateral subqueries: index probes per
 * patient, right for a few patients of a patch or a million patients' chunked reads, but for a 200-patient clinic
 * about 3,500 buffer visits where these joins take about 150). Used by the nightly run's follow-ups of a small
 * organization only (JobService.runTogether); `test/opportunities/opportunities-sql.int-spec.ts` holds the two equal.
 */
export const FACTS_ORGANIZATION_SQL = `
SELECT m.patient_id, m.status, m.risk_level, m.ltv_cents, m.success_probability, m.avg_session_value_cents,
       m.last_contact_at, m.next_appointment_at,
       p.marketing_consent, p.appointment_reminders, p.consent_grants, p.preferred_channel,
       coalesce(v.visit_count, 0) AS visit_count, v.first_visit_at, v.last_visit_at,
       ap.remaining AS plan_remaining, ap.session_value_cents AS plan_session_value_cents,
       ap.started_at AS plan_started_at, ap.ends_at AS plan_ends_at, ap.planned_sessions AS plan_planned_sessions,
       cp.patient_id IS NOT NULL AS has_completed_plan
  FROM patient_metrics m
  JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
  LEFT JOIN (
    SELECT a.patient_id, count(*)::int AS visit_count, min(a.starts_at) AS first_visit_at, max(a.starts_at) AS last_visit_at
      FROM appointments a
     WHERE a.organization_id = $1 AND a.status = 'completed' AND a.starts_at <= $2
     GROUP BY a.patient_id) v ON v.patient_id = m.patient_id
  LEFT JOIN (
    SELECT DISTINCT ON (t.patient_id) t.patient_id, t.planned_sessions - t.completed_sessions AS remaining, t.session_value_cents,
           t.started_at, t.ends_at, t.planned_sessions
      FROM treatment_plans t
     WHERE t.organization_id = $1 AND t.status = 'active' AND t.planned_sessions > t.completed_sessions
     ORDER BY t.patient_id, t.started_at DESC, t.id) ap ON ap.patient_id = m.patient_id
  LEFT JOIN (
    SELECT DISTINCT t.patient_id FROM treatment_plans t WHERE t.organization_id = $1 AND t.status = 'completed') cp ON cp.patient_id = m.patient_id
 ${CANDIDATES_PAGE}`;

/**
 * The reengagement rules of `domain/opportunity-rules.ts` (`classify`) as SQL over the facts query, so that a rebuild
 * classifies and writes in the database (one statement for the whole organization) instead of reading every
 * candidate into Node and sending the opportunities back. Both the organization-wide rebuild and the per-patient
 * patch run this statement, so both classify alike; `test/opportunities/opportunities-sql.int-spec.ts` holds its rows
 * equal, column by column, to those `classify` gives on a seeded clinic.
 *
 * The arithmetic is JavaScript's, step for step, in float8: instants are whole epoch milliseconds (what a JS Date
 * keeps of a timestamptz: the microseconds truncated), `new Date(x)` truncates, `Math.round` rounds halves up, and the
 * success probability is the double that the `real` column's text gives (what node-pg hands `classify`), so that the
 * sort key `estimated × probability` is the same double.
 *
 * Parameters: those of FACTS_SQL ($1 organization, $2 now, $3 after this patient id, $4 limit, $5 only these patients
 * or null, $6 up to this patient id or null), then $7 the LTV threshold in cents and $8 the recall interval in days.
 * Columns: the table's after organization_id, in its order, less computed_at.
 */
/**
 * Whole epoch milliseconds of a timestamptz, truncated as a JS Date keeps them, in float8 arithmetic: the epoch in
 * microseconds is exact once rounded (a double carries 2^53), its thousandth floored (numeric arithmetic cost more).
 */
const ms = (ts: string): string => `floor(round(date_part('epoch', ${ts}) * 1000000) / 1000)`;

/** The channel to contact the patient on for a purpose (`consentedChannel`): the preferred one when granted, else the first granted; null. */
const consentedChannelSql = (purpose: ConsentPurpose): string =>
  `CASE WHEN '${purpose}:' || f.preferred_channel = ANY (f.consent_grants) THEN f.preferred_channel::text ` +
  ALL_CHANNELS.map((c) => `WHEN '${grantToken(purpose, c)}' = ANY (f.consent_grants) THEN '${c}' `).join('') +
  `END`;

const classifySql = (facts: string): string => `
SELECT f.patient_id, k.type, k.priority,
       CASE WHEN k.type <> '${OpportunityType.OverdueAppointment}' AND g.marketing IS NOT NULL THEN '${OutreachKind.Offer}'
            WHEN c.overdue AND g.reminder IS NOT NULL THEN '${OutreachKind.Reminder}'
            ELSE '${OutreachKind.NextContact}' END AS outreach,
       CASE WHEN k.type <> '${OpportunityType.OverdueAppointment}' AND g.marketing IS NOT NULL THEN g.marketing
            WHEN c.overdue AND g.reminder IS NOT NULL THEN g.reminder
            ELSE f.preferred_channel::text END AS channel,
       f.status AS patient_status,
       v.estimated,
       p.probability,
       v.estimated::float8 * p.probability AS expected_return,
       date_trunc('milliseconds', f.last_contact_at) AS last_contact_at,
       timestamptz 'epoch' + e.at_ms * interval '1 millisecond' AS expected_visit_at
  FROM (${facts}) f
  -- OFFSET 0 keeps a step from being flattened into the expressions that use it: the instants and the interval are
  -- computed once per row (flattened, each use recomputed them: 2-3 times the cost, measured).
  CROSS JOIN LATERAL (
    SELECT ${ms('f.first_visit_at')} AS first_ms, ${ms('f.last_visit_at')} AS last_ms,
           ${ms('f.plan_started_at')} AS plan_start_ms, ${ms('f.plan_ends_at')} AS plan_end_ms,
           ${ms('$2::timestamptz')} AS now_ms,
           f.success_probability::text::float8 AS sp OFFSET 0) t
  -- usualIntervalDays (visit-rhythm.ts): max(7, mean gap) from two visits on
  CROSS JOIN LATERAL (
    SELECT CASE WHEN f.visit_count >= 2 AND t.first_ms IS NOT NULL AND t.last_ms IS NOT NULL
                THEN greatest(${MIN_USUAL_INTERVAL_DAYS}::float8, (t.last_ms - t.first_ms) / ${DAY_MS} / (f.visit_count - 1)) END AS usual) u
  -- expectedNextVisit: a treatment plan's cadence, else (outside maintenance) the usual interval, else the recall
  CROSS JOIN LATERAL (
    SELECT CASE WHEN t.last_ms IS NULL THEN NULL
                WHEN f.plan_remaining IS NOT NULL THEN greatest(
                  CASE WHEN t.plan_end_ms IS NOT NULL AND f.plan_planned_sessions > 0
                       THEN (t.plan_end_ms - t.plan_start_ms) / ${DAY_MS} / f.plan_planned_sessions
                       ELSE coalesce(u.usual, ${DEFAULT_PLAN_CADENCE_DAYS}::float8) END, 1::float8)
                WHEN u.usual IS NOT NULL AND NOT f.has_completed_plan THEN u.usual
                ELSE $8::float8 END AS interval_days OFFSET 0) i
  CROSS JOIN LATERAL (SELECT trunc(t.last_ms + i.interval_days * ${DAY_MS}) AS at_ms) e
  -- isOverdue, and the high-value-risk test against the threshold
  CROSS JOIN LATERAL (
    SELECT coalesce(t.now_ms > e.at_ms + greatest(${OVERDUE_MIN_MARGIN_DAYS}::float8, ${OVERDUE_MARGIN_SHARE}::float8 * i.interval_days) * ${DAY_MS}, false) AS overdue,
           f.risk_level = 'high' AND f.ltv_cents > 0 AND f.ltv_cents >= $7::int AS high_value_risk) c
  CROSS JOIN LATERAL (
    SELECT CASE WHEN c.high_value_risk THEN '${OpportunityType.HighValueRisk}'
                WHEN c.overdue THEN '${OpportunityType.OverdueAppointment}'
                WHEN f.status IN ('dormant', 'at_risk') THEN '${OpportunityType.InactivePatient}' END AS type,
           CASE WHEN c.high_value_risk THEN '${OpportunityPriority.High}'
                WHEN c.overdue THEN CASE WHEN f.plan_remaining IS NOT NULL THEN '${OpportunityPriority.High}' ELSE '${OpportunityPriority.Medium}' END
                WHEN f.status = 'dormant' THEN '${OpportunityPriority.Medium}'
                ELSE '${OpportunityPriority.Low}' END AS priority) k
  -- estimatedValueCents, with Math.round (halves up)
  CROSS JOIN LATERAL (
    SELECT CASE WHEN f.plan_remaining IS NOT NULL
                THEN least(f.plan_remaining::float8, ${VALUE_HORIZON_DAYS} / coalesce(i.interval_days, $8::float8))
                     * (CASE WHEN coalesce(f.plan_session_value_cents, 0) > 0 THEN f.plan_session_value_cents ELSE f.avg_session_value_cents END)
                ELSE ${VALUE_HORIZON_DAYS} / coalesce(i.interval_days, $8::float8) * f.avg_session_value_cents END AS raw) r
  CROSS JOIN LATERAL (SELECT (CASE WHEN r.raw - floor(r.raw) >= 0.5 THEN floor(r.raw) + 1 ELSE floor(r.raw) END)::int AS estimated) v
  CROSS JOIN LATERAL (
    SELECT CASE WHEN t.sp = 'NaN'::float8 OR t.sp = 'Infinity'::float8 OR t.sp = '-Infinity'::float8 THEN 0::float8
                ELSE least(greatest(t.sp, 0::float8), 1::float8) END AS probability) p
  -- outreachWithChannel: the channels granted for an offer and for a reminder
  CROSS JOIN LATERAL (
    SELECT ${consentedChannelSql(ConsentPurpose.Marketing)} AS marketing,
           ${consentedChannelSql(ConsentPurpose.AppointmentReminders)} AS reminder) g
 WHERE k.type IS NOT NULL`;

export const CLASSIFY_SQL = classifySql(FACTS_SQL);

/** CLASSIFY_SQL over FACTS_ORGANIZATION_SQL (a small organization's whole rebuild). */
export const CLASSIFY_ORGANIZATION_SQL = classifySql(FACTS_ORGANIZATION_SQL);

/**
 * Classifies and inserts in one statement (parameters of CLASSIFY_SQL): the opportunities found, as totals per type and
 * priority in the order each first appears by patient id (the refresh's totals come out as the per-row loop's did).
 */
export const CLASSIFY_INSERT_SQL = `
WITH ins AS (
  INSERT INTO reengagement_opportunities
    (organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status,
     estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at)
  SELECT $1::uuid, c.*, $2::timestamptz FROM (${CLASSIFY_SQL}) c
  RETURNING patient_id, opportunity_type, priority, estimated_value_cents)
SELECT opportunity_type AS type, priority, count(*)::int AS count, sum(estimated_value_cents)::float8 AS value_cents
  FROM ins
 GROUP BY opportunity_type, priority
 ORDER BY min(patient_id::text COLLATE "C")`;

/**
 * The rebuild's statement (parameters of CLASSIFY_SQL, $5 null; the organization's patients in ($3, $6]): the
 * opportunities found are compared with the stored rows by a full join and only what differs is written: a row whose
 * every column is the same already is left alone (no new row version, no WAL, no lock: the snapshot rebuilt over
 * itself, or the patients a recompute did not move), a changed one updated (its foreign keys stay: no foreign-key
 * check and no lock on the patient row, which an insert takes), a new one inserted and the rows of patients who are
 * no opportunity now deleted. `computed_at` and `updated_at` are those of the last change of the row's values (the
 * snapshot's `refreshed_at` says when they were all last checked); an export's "changed since" sees only those.
 * Returns the totals of all the opportunities found as CLASSIFY_INSERT_SQL does. (Measured against an upsert of every
 * row and against delete-then-insert: docs/performance.md, "The opportunities refresh writes only what changed".)
 */
const classifyReplaceSql = (classify: string, save = false): string => `
WITH n AS MATERIALIZED (${classify}),
-- A full join (merge or hash: never a loop over n per row, whatever the estimates; the coalesce keeps the planner
-- from turning it into an anti-join) of the rows found with the stored ones, kept where they differ. The success
-- probability is compared as the real the column stores.
d AS (
  SELECT coalesce(n.patient_id, r.patient_id) AS patient_id, n.patient_id IS NULL AS gone, r.patient_id IS NULL AS fresh,
         n.type, n.priority, n.outreach, n.channel, n.patient_status, n.estimated, n.probability, n.expected_return,
         n.last_contact_at, n.expected_visit_at
    FROM n
    FULL JOIN (SELECT patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents,
                      success_probability, expected_return_cents, last_contact_at, expected_visit_at
                 FROM reengagement_opportunities
                WHERE organization_id = $1 AND patient_id > $3::uuid AND ($6::uuid IS NULL OR patient_id <= $6::uuid)) r
      ON r.patient_id = n.patient_id
   WHERE n.patient_id IS NULL OR r.patient_id IS NULL
      OR (r.opportunity_type, r.priority, r.outreach, r.channel, r.patient_status, r.estimated_value_cents, r.success_probability,
          r.expected_return_cents, r.last_contact_at, r.expected_visit_at)
         IS DISTINCT FROM (n.type, n.priority, n.outreach, n.channel, n.patient_status, n.estimated, n.probability::real,
                           n.expected_return, n.last_contact_at, n.expected_visit_at)),
ins AS (
  -- ON CONFLICT: a row stored meanwhile by a writer that did not take the refresh lock is updated, not an error.
  INSERT INTO reengagement_opportunities AS o
    (organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status,
     estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at)
  SELECT $1::uuid, patient_id, type, priority, outreach, channel, patient_status, estimated, probability, expected_return,
         last_contact_at, expected_visit_at, $2::timestamptz
    FROM d WHERE fresh
  ON CONFLICT (organization_id, patient_id) DO UPDATE
     SET opportunity_type = EXCLUDED.opportunity_type, priority = EXCLUDED.priority, outreach = EXCLUDED.outreach,
         channel = EXCLUDED.channel, patient_status = EXCLUDED.patient_status, estimated_value_cents = EXCLUDED.estimated_value_cents,
         success_probability = EXCLUDED.success_probability, expected_return_cents = EXCLUDED.expected_return_cents,
         last_contact_at = EXCLUDED.last_contact_at, expected_visit_at = EXCLUDED.expected_visit_at,
         computed_at = EXCLUDED.computed_at, updated_at = now()),
upd AS (
  UPDATE reengagement_opportunities o
     SET opportunity_type = d.type, priority = d.priority, outreach = d.outreach, channel = d.channel,
         patient_status = d.patient_status, estimated_value_cents = d.estimated, success_probability = d.probability,
         expected_return_cents = d.expected_return, last_contact_at = d.last_contact_at, expected_visit_at = d.expected_visit_at,
         computed_at = $2::timestamptz, updated_at = now()
    FROM d
   WHERE o.organization_id = $1 AND o.patient_id = d.patient_id AND NOT d.fresh AND NOT d.gone),
gone AS (
  DELETE FROM reengagement_opportunities o USING d
   WHERE o.organization_id = $1 AND o.patient_id = d.patient_id AND d.gone)${
  save
    ? `,
totals AS (
  SELECT type, priority, count(*)::int AS count, sum(estimated)::float8 AS value_cents, min(patient_id::text COLLATE "C") AS first
    FROM n
   GROUP BY type, priority),
-- The refresh's row (OpportunitiesRepository.saveRefresh's upsert, the same values): the totals as the JSON array of
-- what the statement returns, in its order; the duration: $9 (the rebuild's milliseconds before this statement) plus
-- this statement's own time up to here.
saved AS (
  INSERT INTO opportunity_refreshes (organization_id, refreshed_at, ltv_threshold_cents, totals, duration_ms)
  SELECT $1::uuid, $2::timestamptz, $7::int,
         coalesce(jsonb_agg(jsonb_build_object('type', t.type, 'priority', t.priority, 'count', t.count, 'valueCents', t.value_cents) ORDER BY t.first), '[]'::jsonb),
         $9::int + (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::int
    FROM totals t
  ON CONFLICT (organization_id) DO UPDATE
    SET refreshed_at = excluded.refreshed_at, ltv_threshold_cents = excluded.ltv_threshold_cents,
        totals = excluded.totals, duration_ms = excluded.duration_ms
  RETURNING 1)
SELECT type, priority, count, value_cents
  FROM totals
 ORDER BY first`
    : `
SELECT type, priority, count(*)::int AS count, sum(estimated)::float8 AS value_cents
  FROM n
 GROUP BY type, priority
 ORDER BY min(patient_id::text COLLATE "C")`
}`;

export const CLASSIFY_REPLACE_SQL = classifyReplaceSql(CLASSIFY_SQL);

/** CLASSIFY_REPLACE_SQL over FACTS_ORGANIZATION_SQL: a small organization's whole rebuild (the nightly run's follow-up). */
export const CLASSIFY_REPLACE_ORGANIZATION_SQL = classifyReplaceSql(CLASSIFY_ORGANIZATION_SQL);

/**
 * CLASSIFY_REPLACE_ORGANIZATION_SQL with the refresh's row written in the same statement ($9: the milliseconds the
 * rebuild took before it): the small organization's nightly rebuild, one round trip fewer than the rebuild and
 * `saveRefresh` after it. Returns the same totals.
 */
export const CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL = classifyReplaceSql(CLASSIFY_ORGANIZATION_SQL, true);

/**
 * The build of a large organization's opportunities into a fresh table (`table`: an identifier built from the
 * organization id, src/opportunities/opportunities-partition-swap.ts): the rows CLASSIFY_SQL finds, each with the created/updated/computed
 * instants the update path would leave it (a row the same in every column as the stored one keeps its three; a
 * changed one keeps `created_at` and takes `$2` and now(); a new one takes now() and `$2`), inserted in one statement
 * into a table without indexes; returns the totals as CLASSIFY_REPLACE_SQL does. Parameters of
 * CLASSIFY_SQL: with a range ($3 after this patient id, $6 up to this one), the rows of the patients in it (a half of
 * the build, OpportunitiesRefresher runs two at once). The rows are those CLASSIFY_REPLACE_SQL leaves (`test/opportunities/opportunities-swap.int-spec.ts`).
 */
export const classifyBuildSql = (table: string): string => `
WITH n AS MATERIALIZED (${CLASSIFY_SQL}),
-- The stored rows, materialized: joined to the rows found by hash (one read of the partition), not probed per row.
r AS MATERIALIZED (SELECT * FROM reengagement_opportunities
                    WHERE organization_id = $1 AND patient_id > $3 AND ($6::uuid IS NULL OR patient_id <= $6::uuid)),
ins AS (
  INSERT INTO ${table}
    (organization_id, created_at, updated_at, patient_id, opportunity_type, priority, outreach, channel, patient_status,
     estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at)
  SELECT $1::uuid,
         coalesce(r.created_at, now()),
         CASE WHEN s.same THEN r.updated_at ELSE now() END,
         n.patient_id, n.type, n.priority, n.outreach, n.channel, n.patient_status, n.estimated, n.probability,
         n.expected_return, n.last_contact_at, n.expected_visit_at,
         CASE WHEN s.same THEN r.computed_at ELSE $2::timestamptz END
    FROM n
    LEFT JOIN r ON r.patient_id = n.patient_id
    CROSS JOIN LATERAL (
      SELECT r.patient_id IS NOT NULL AND
             (r.opportunity_type, r.priority, r.outreach, r.channel, r.patient_status, r.estimated_value_cents, r.success_probability,
              r.expected_return_cents, r.last_contact_at, r.expected_visit_at)
             IS NOT DISTINCT FROM (n.type, n.priority, n.outreach, n.channel, n.patient_status, n.estimated, n.probability::real,
                                   n.expected_return, n.last_contact_at, n.expected_visit_at) AS same) s)
SELECT type, priority, count(*)::int AS count, sum(estimated)::float8 AS value_cents
  FROM n
 GROUP BY type, priority
 ORDER BY min(patient_id::text COLLATE "C")`;
