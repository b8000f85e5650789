import { addDays, DAY_MS, localDate } from 'src/common/time/calendar';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';
import { Channel } from 'src/records/records.enums';
import { ENGAGEMENT_EVENTS, EngagementEventDefinition } from 'src/scoring/domain/engagement-events';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { FEATURE_COLUMNS, type PatientSelector } from 'src/scoring/features/feature-row';
import { KEPT_FEATURES, KEPT_SETTLED, MOVING_PLAN } from 'src/scoring/features/kept-features.sql';
import {
  decayRatePerSecond,
  type FeaturesQuery,
  ms,
  NET_REVENUE,
  riskHistoryColumns,
  selectorSql,
} from 'src/scoring/features/sql-fragments';

/**
 * The features query: ONE set-based statement that turns a set of patients' raw records into a `PatientFeatures`
 * row each, exactly as documented field by field in `src/scoring/domain/patient-features.ts`. Each source table is
 * aggregated once (GROUP BY patient_id, FILTER clauses, recency decay `exp(-ln 2 · age / half-life)`), then joined
 * to the patients. Output columns are named after the `PatientFeatures` fields, dates as epoch milliseconds
 * (float8), so a row needs almost no mapping in Node.
 *
 * The engagement-event columns are generated from ENGAGEMENT_EVENTS (the one definition): for each definition,
 * on its own table, the latest event and the counts in the two decline windows; the final select combines them.
 */

export interface FeaturesQueryOptions {
  /**
   * false: "referredNetRevenueCents" comes back 0, for the caller to fill in from `referredNetRevenueQuery` (an
   * organization-wide run reads the referred patients' payments once, rather than looking up each referred patient
   * in every chunk: at a million patients that lookup was a fifth of a chunk's read). Default true.
   */
  referredNet?: boolean;
  /**
   * For an `ids` selection: whether each patient has a metrics row ("hasMetrics"), as a range selection always
   * says; else null (the request path upserts). Default false.
   */
  hasMetrics?: boolean;
  /**
   * Keep the features read (the organization-wide recompute): each patient's row is also written to
   * `patient_features` with the instant it is exact until (`valid_until`), for later runs to roll forward
   * (`keptFeaturesQuery`). The statement returns the same columns. `settingsKey`: keptFeaturesKey(settings).
   */
  keep?: { settingsKey: string };
}

/** Contact channels (records.enums Channel): the preferred-channel sums are computed for each, then picked. */
const CHANNELS = Object.values(Channel);

/**
 * The engagement columns of one source table. With `edges` (kept features), also each definition's oldest event in
 * the recent window and in the prior window: the counts change when those leave their window.
 */
function engagementColumns(table: EngagementEventDefinition['table'], edges: boolean): { sql: string[]; names: string[] } {
  const sql: string[] = [];
  const names: string[] = [];
  ENGAGEMENT_EVENTS.forEach((e, i) => {
    if (e.table !== table) return;
    const ts = e.timestampColumn;
    const pred = `(${e.sqlPredicate}) AND ${ts} <= $2`;
    sql.push(
      `max(${ts}) FILTER (WHERE ${pred}) AS eng_last_${i}`,
      `count(*) FILTER (WHERE ${pred} AND ${ts} > $5)::int AS eng_recent_${i}`,
      `count(*) FILTER (WHERE ${pred} AND ${ts} <= $5 AND ${ts} > $6)::int AS eng_prior_${i}`,
    );
    if (edges) {
      sql.push(
        `min(${ts}) FILTER (WHERE ${pred} AND ${ts} > $5) AS eng_redge_${i}`,
        `min(${ts}) FILTER (WHERE ${pred} AND ${ts} <= $5 AND ${ts} > $6) AS eng_pedge_${i}`,
      );
    }
    names.push(`${aliasOf(table)}.eng_last_${i}`);
  });
  return { sql, names };
}

const ALIASES: Record<EngagementEventDefinition['table'], string> = {
  appointments: 'ap',
  communications: 'cm',
  survey_responses: 'sv',
  payments: 'py',
};
const aliasOf = (table: EngagementEventDefinition['table']): string => ALIASES[table];

function engagementSums(kind: 'recent' | 'prior'): string {
  return ENGAGEMENT_EVENTS.map((e, i) => `coalesce(${aliasOf(e.table)}.eng_${kind}_${i}, 0)`).join(' + ');
}

/**
 * The features query for `selector` in `organizationId` at `now` with `settings` (windows and half-life).
 * `timeZone` is the organization's, for the calendar days of the risk history.
 */
export function featuresQuery(
  organizationId: string,
  selector: PatientSelector,
  now: Date,
  settings: ScoringSettings,
  timeZone: string,
  options: FeaturesQueryOptions = {},
): FeaturesQuery {
  const today = localDate(now, timeZone);
  const params: unknown[] = [
    organizationId, // $1
    now, // $2
    now.getTime() / 1000, // $3 now, epoch seconds
    decayRatePerSecond(settings), // $4
    new Date(now.getTime() - settings.declineRecentWindowDays * DAY_MS), // $5 start of the recent window
    new Date(now.getTime() - (settings.declineRecentWindowDays + settings.declinePriorWindowDays) * DAY_MS), // $6
    addDays(today, -settings.riskTrendWindowDays), // $7 trend baseline day
    today, // $8
  ];
  const sel = selectorSql(selector, params);
  // The organization of the records' reads: for chosen patients (a rescore after an ingestion or an import, one
  // patient's aftermath), unseen by the planner (UNSEEN_ORGANIZATION). Given the value, it estimated a clinic its
  // statistics did not know yet (a new clinic's first import beside a million-patient one) at one row in every table,
  // nested each aggregate under the patients and read the clinic's rows once per patient: 47-52 s per chunk of 1,000
  // patients, past the write timeout, so the import's rescore failed. The organization-wide run's chunks (ranges) keep
  // `$1`, whose estimate from the statistics suits a read of the organization's rows; so does patient_metrics
  // (partitioned by organization: a constant prunes at planning).
  const org = selector.kind === 'ids' ? UNSEEN_ORGANIZATION : '$1';
  const w = (ts: string): string => `exp((date_part('epoch', ${ts}) - $3) * $4)`;
  const keep = options.keep !== undefined;
  const engAp = engagementColumns('appointments', keep);
  const engCm = engagementColumns('communications', keep);
  const engSv = engagementColumns('survey_responses', keep);
  const engPy = engagementColumns('payments', keep);
  // Kept features: the earliest dated row still in the future, per table (when it passes, the features change).
  const future = (column: string, alias: string): string =>
    keep
      ? `,
    min(${column}) FILTER (WHERE ${column} > $2) AS ${alias}`
      : '';
  const lastEngagement = [...engAp.names, ...engCm.names, ...engSv.names, ...engPy.names];
  const net = NET_REVENUE;
  const edge = (kind: 'redge' | 'pedge'): string =>
    `least(${ENGAGEMENT_EVENTS.map((e, i) => `${aliasOf(e.table)}.eng_${kind}_${i}`).join(', ')})`;
  // When the kept features stop being exact (null: no date ahead changes them; see keptFeaturesQuery): the first
  // dated row to pass from the future, the first engagement event to leave the recent window (it then counts in the
  // prior one) or the prior window. A plan under way does not end them: its terms are kept as the plan itself
  // (moving_plans) and computed at the later run's instant. The referrals and plans are looked up per patient (their
  // aggregates leave future rows out).
  const validUntil = `least(ap.future_at, cm.future_at, cm.reply_future_at, py.future_at, sv.future_at,
    (SELECT min(r.referred_at) FROM referrals r WHERE r.organization_id = ${org} AND r.referrer_patient_id = pt_id AND r.referred_at > $2),
    (SELECT min(t.started_at) FROM treatment_plans t WHERE t.organization_id = ${org} AND t.patient_id = pt_id AND t.started_at > $2),
    ${edge('redge')} + ($2::timestamptz - $5::timestamptz),
    ${edge('pedge')} + ($2::timestamptz - $6::timestamptz)) AS valid_until,
  coalesce(tp.sessions_behind_settled, 0) AS kept_sessions_behind,
  coalesce(tp.sessions_due_settled, 0) AS kept_sessions_due,
  tp.moving_plans`;
  const progress = `least(1, greatest(0, ($3 - date_part('epoch', started_at)) / nullif(date_part('epoch', ends_at) - date_part('epoch', started_at), 0)))`;

  const sql = `
WITH pt AS (
  SELECT p.id AS pt_id, p.name AS pt_name, p.registered_at AS pt_registered_at, p.marketing_consent AS pt_consent,
         p.appointment_reminders AS pt_reminders, p.preferred_channel AS pt_channel
  FROM patients p
  WHERE p.organization_id = ${org} AND p.deleted_at IS NULL AND ${sel('p.id')}
),
ap AS (
  SELECT patient_id,
    min(starts_at) FILTER (WHERE status = 'scheduled' AND starts_at > $2) AS next_at,
    min(starts_at) FILTER (WHERE code = 'c') AS first_visit_at,
    max(starts_at) FILTER (WHERE code = 'c') AS last_visit_at,
    count(*) FILTER (WHERE code = 'c')::int AS completed_visits,
    coalesce(sum(value_cents) FILTER (WHERE code = 'c'), 0)::float8 AS visit_value,
    coalesce(sum(w) FILTER (WHERE code = 'c'), 0) AS d_visits,
    coalesce(sum(w) FILTER (WHERE code = 'n'), 0) AS d_no_shows,
    coalesce(sum(w) FILTER (WHERE code = 'x'), 0) AS d_cancellations,
    -- The rows come oldest first (the subquery's order; string_agg skips the null codes): the last five characters
    -- are the last five past appointments. Only their counts are used, so their order does not matter.
    right(string_agg(code, ''), 5) AS recent_statuses${future('starts_at', 'future_at')}${engAp.sql
      .map(
        (s) => `,
    ${s}`,
      )
      .join('')}
  FROM (
    -- Each past appointment's code (c = completed, n = no_show, x = cancelled; null otherwise) and recency weight
    -- once per row, in (patient_id, starts_at) order: the index's order, so no sort. An ordered aggregate
    -- (string_agg(... ORDER BY starts_at DESC)) sorted every patient's rows on their own: half the time of this
    -- aggregate on PostgreSQL 15. The aggregate above sees the rows in this order (no join at its level).
    SELECT patient_id, starts_at, status, value_cents, code, CASE WHEN code IS NOT NULL THEN ${w('starts_at')} END AS w
    FROM (
      SELECT patient_id, starts_at, status, value_cents,
        CASE WHEN starts_at <= $2 THEN CASE status WHEN 'completed' THEN 'c' WHEN 'no_show' THEN 'n' WHEN 'cancelled' THEN 'x' END END AS code
      FROM appointments
      WHERE organization_id = ${org} AND ${sel('patient_id')}
    ) a
    ORDER BY patient_id, starts_at
  ) a
  GROUP BY patient_id
),
cm AS (
  SELECT patient_id,
    max(occurred_at) FILTER (WHERE occurred_at <= $2) AS last_contact_at,
    coalesce(sum(w) FILTER (WHERE outreach), 0) AS d_outreach,
    coalesce(sum(w) FILTER (WHERE outreach AND responded_at IS NOT NULL), 0) AS d_replies,
    avg(date_part('epoch', responded_at - occurred_at) / 3600) FILTER (WHERE outreach AND responded_at IS NOT NULL) AS avg_reply_hours,
    ${CHANNELS.map(
      (c) => `coalesce(sum(w) FILTER (WHERE outreach AND channel = '${c}'), 0) AS outreach_${c},
    coalesce(sum(w) FILTER (WHERE outreach AND responded_at IS NOT NULL AND channel = '${c}'), 0) AS replies_${c}`,
    ).join(',\n    ')}${future(
      'occurred_at',
      'future_at',
    )}${future('responded_at', 'reply_future_at')}${engCm.sql.map((s) => `,\n    ${s}`).join('')}
  FROM (
    -- The weight once per row (OFFSET 0 keeps the subquery, which the planner would otherwise flatten, repeating
    -- the expression in each aggregate).
    SELECT patient_id, occurred_at, responded_at, direction, kind, channel, direction = 'outbound' AND occurred_at <= $2 AS outreach,
      CASE WHEN direction = 'outbound' AND occurred_at <= $2 THEN ${w('occurred_at')} END AS w
    FROM communications
    WHERE organization_id = ${org} AND ${sel('patient_id')}
    OFFSET 0
  ) c
  GROUP BY patient_id
),
py AS (
  SELECT patient_id,
    (${net})::float8 AS net_revenue,
    coalesce(sum(${w('occurred_at')}) FILTER (WHERE status = 'failed' AND occurred_at <= $2), 0) AS d_failed,
    count(*) FILTER (WHERE status = 'overdue')::int AS overdue${future('occurred_at', 'future_at')}${engPy.sql.map((s) => `,\n    ${s}`).join('')}
  FROM payments
  WHERE organization_id = ${org} AND ${sel('patient_id')}
  GROUP BY patient_id
),
sv AS (
  SELECT patient_id,
    sum(${w('submitted_at')} * satisfaction) FILTER (WHERE satisfaction IS NOT NULL AND submitted_at <= $2)
      / nullif(sum(${w('submitted_at')}) FILTER (WHERE satisfaction IS NOT NULL AND submitted_at <= $2), 0) AS satisfaction,
    count(*) FILTER (WHERE complaint AND submitted_at <= $2)::int AS complaints,
    coalesce(sum(${w('submitted_at')}) FILTER (WHERE complaint AND submitted_at <= $2), 0) AS d_complaints${future(
      'submitted_at',
      'future_at',
    )}${engSv.sql.map((s) => `,\n    ${s}`).join('')}
  FROM survey_responses
  WHERE organization_id = ${org} AND ${sel('patient_id')}
  GROUP BY patient_id
),
rf AS (${
    options.referredNet === false
      ? `
  SELECT referrer_patient_id AS patient_id, count(*)::int AS referrals_made, 0::float8 AS referred_net
  FROM referrals
  WHERE organization_id = ${org} AND referred_at <= $2 AND ${sel('referrer_patient_id')}
  GROUP BY referrer_patient_id`
      : `
  SELECT d.referrer_patient_id AS patient_id, sum(d.n)::int AS referrals_made, coalesce(sum(rev.net), 0)::float8 AS referred_net
  FROM (
    SELECT referrer_patient_id, referred_patient_id, count(*) AS n
    FROM referrals
    WHERE organization_id = ${org} AND referred_at <= $2 AND ${sel('referrer_patient_id')}
    GROUP BY referrer_patient_id, referred_patient_id
  ) d
  LEFT JOIN LATERAL (
    SELECT ${net} AS net FROM payments WHERE organization_id = ${org} AND patient_id = d.referred_patient_id
  ) rev ON TRUE
  GROUP BY d.referrer_patient_id`
  }
),
tp AS (
  SELECT patient_id,
    coalesce(sum(greatest(0, planned_sessions - completed_sessions)::float8 * session_value_cents) FILTER (WHERE status = 'active'), 0) AS active_remaining_value,
    coalesce(sum(greatest(0, planned_sessions * ${progress} - completed_sessions)) FILTER (WHERE status = 'active' AND ends_at > started_at), 0) AS sessions_behind,
    count(*) FILTER (WHERE status = 'abandoned')::int AS abandoned,
    coalesce(sum(CASE WHEN status IN ('completed', 'abandoned') THEN planned_sessions
                      WHEN ends_at > started_at THEN planned_sessions * ${progress}
                      ELSE completed_sessions END), 0)::float8 AS sessions_due,
    coalesce(sum(completed_sessions), 0)::float8 AS sessions_done${
      keep
        ? `,
    -- Kept: the two sums over the plans whose terms no longer move, and the plans whose expected progress moves with
    -- the clock (started, not completed or abandoned, not yet at their end) as they are, for keptFeaturesQuery to
    -- compute their terms at its own instant (MOVING_PLAN).
    coalesce(sum(greatest(0, planned_sessions * ${progress} - completed_sessions))
      FILTER (WHERE status = 'active' AND ends_at > started_at AND NOT (${MOVING_PLAN})), 0) AS sessions_behind_settled,
    coalesce(sum(CASE WHEN status IN ('completed', 'abandoned') THEN planned_sessions
                      WHEN ends_at > started_at THEN planned_sessions * ${progress}
                      ELSE completed_sessions END) FILTER (WHERE NOT (${MOVING_PLAN})), 0)::float8 AS sessions_due_settled,
    array_agg(ARRAY[planned_sessions::float8, completed_sessions::float8, date_part('epoch', started_at), date_part('epoch', ends_at),
      CASE WHEN status = 'active' THEN 1 ELSE 0 END::float8]) FILTER (WHERE ${MOVING_PLAN}) AS moving_plans`
        : ''
    }
  FROM treatment_plans
  WHERE organization_id = ${org} AND started_at <= $2 AND ${sel('patient_id')}
  GROUP BY patient_id
)
SELECT
  pt_id AS "patientId",
  lower(pt_name) AS "sortName",
  pt_channel AS "preferredChannel",
  ${ms('pt_registered_at')} AS "registeredAt",
  pt_consent AS "marketingConsent",
  pt_reminders AS "appointmentReminders",
  ${ms(`greatest(${lastEngagement.join(', ')})`)} AS "lastEngagementAt",
  (${engagementSums('recent')}) AS "engagementsRecent",
  (${engagementSums('prior')}) AS "engagementsPrior",
  ${ms('ap.next_at')} AS "nextAppointmentAt",
  ${ms('ap.first_visit_at')} AS "firstVisitAt",
  ${ms('ap.last_visit_at')} AS "lastVisitAt",
  coalesce(ap.completed_visits, 0) AS "completedVisits",
  coalesce(ap.visit_value, 0) AS "visitValueCents",
  coalesce(ap.d_visits, 0) AS "decayedVisits",
  coalesce(ap.d_no_shows, 0) AS "decayedNoShows",
  coalesce(ap.d_cancellations, 0) AS "decayedCancellations",
  -- recent_statuses: the last 5 past appointments, newest first: c = completed, n = no_show, x = cancelled.
  coalesce(length(ap.recent_statuses), 0) AS "recentAppointments",
  coalesce(length(ap.recent_statuses) - length(replace(ap.recent_statuses, 'n', '')), 0) AS "recentNoShows",
  coalesce(length(ap.recent_statuses) - length(replace(ap.recent_statuses, 'x', '')), 0) AS "recentCancellations",
  coalesce(cm.d_outreach, 0) AS "decayedOutreach",
  coalesce(cm.d_replies, 0) AS "decayedReplies",
  cm.avg_reply_hours AS "avgReplyHours",
  coalesce(CASE pt_channel ${CHANNELS.map((c) => `WHEN '${c}' THEN cm.outreach_${c}`).join(' ')} END, 0) AS "preferredChannelOutreach",
  coalesce(CASE pt_channel ${CHANNELS.map((c) => `WHEN '${c}' THEN cm.replies_${c}`).join(' ')} END, 0) AS "preferredChannelReplies",
  ${ms('greatest(cm.last_contact_at, ap.last_visit_at)')} AS "lastContactAt",
  coalesce(py.net_revenue, 0) AS "netRevenueCents",
  coalesce(py.d_failed, 0) AS "decayedFailedPayments",
  coalesce(py.overdue, 0) AS "overduePayments",
  sv.satisfaction AS "weightedSatisfaction",
  coalesce(sv.complaints, 0) AS "complaints",
  coalesce(sv.d_complaints, 0) AS "decayedComplaints",
  coalesce(rf.referrals_made, 0) AS "referralsMade",
  coalesce(rf.referred_net, 0) AS "referredNetRevenueCents",
  coalesce(tp.active_remaining_value, 0) AS "activePlanRemainingValueCents",
  coalesce(tp.sessions_behind, 0) AS "activePlanSessionsBehind",
  coalesce(tp.abandoned, 0) AS "abandonedPlans",
  coalesce(tp.sessions_due, 0) AS "planSessionsDue",
  coalesce(tp.sessions_done, 0) AS "planSessionsDone",
  ${riskHistoryColumns('pt_id', '$7', '$8')},
  ${
    selector.kind === 'range'
      ? // The selector's predicate keeps a hashed subplan to the selection's slice of the primary key.
        `EXISTS (SELECT FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = pt_id AND ${sel('m.patient_id')})`
      : options.hasMetrics
        ? // The selector's predicate here too: without it the planner hashed the organization's whole slice of the
          // primary key for each chunk's unkept patients (a million index entries per chunk at a million patients).
          `EXISTS (SELECT FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = pt_id AND ${sel('m.patient_id')})`
        : 'NULL::boolean'
  } AS "hasMetrics"${
    keep
      ? `,
  ${validUntil}`
      : ''
  }
FROM pt
LEFT JOIN ap ON ap.patient_id = pt_id
LEFT JOIN cm ON cm.patient_id = pt_id
LEFT JOIN py ON py.patient_id = pt_id
LEFT JOIN sv ON sv.patient_id = pt_id
LEFT JOIN rf ON rf.patient_id = pt_id
LEFT JOIN tp ON tp.patient_id = pt_id`;
  if (!options.keep) return { sql, params };
  const key = params.push(options.keep.settingsKey);
  // The rows are written to patient_features in the same statement. A row written since this statement's snapshot
  // (a tombstone: the patient's records changed meanwhile, see the migration) is left as it is: these features were
  // read without that change.
  const kept = `
WITH f AS MATERIALIZED (${sql}),
k AS (
  INSERT INTO patient_features AS pf (organization_id, patient_id, computed_for, valid_until, settings_key, preferred_channel, written_xid,
    moving_plans, ${KEPT_FEATURES.map((c) => c.column).join(', ')})
  SELECT $1, "patientId", $2, valid_until, $${key}, "preferredChannel", pg_current_xact_id(),
    moving_plans, ${KEPT_FEATURES.map((c) => KEPT_SETTLED[c.field] ?? `"${c.field}"`).join(', ')}
  FROM f ORDER BY "patientId"
  ON CONFLICT (organization_id, patient_id) DO UPDATE SET computed_for = EXCLUDED.computed_for, valid_until = EXCLUDED.valid_until,
    settings_key = EXCLUDED.settings_key, preferred_channel = EXCLUDED.preferred_channel, written_xid = EXCLUDED.written_xid,
    moving_plans = EXCLUDED.moving_plans,
    ${KEPT_FEATURES.map((c) => `${c.column} = EXCLUDED.${c.column}`).join(', ')}
  WHERE pg_visible_in_snapshot(pf.written_xid, pg_current_snapshot())
)
SELECT ${FEATURE_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM f`;
  return { sql: kept, params };
}
