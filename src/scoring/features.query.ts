import { Channel } from 'src/records/records.enums';
import { ENGAGEMENT_EVENTS, EngagementEventDefinition } from 'src/scoring/domain/engagement-events';
import { MS_PER_DAY, PatientFeatures } from 'src/scoring/domain/patient-features';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';

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

/** Which patients of the organization a query covers (never a whole table: always inside one organization). */
export type PatientSelector =
  /** Patient ids in [from, to) (uuid order); null = unbounded on that side. Chunks of an organization-wide run. */
  | { kind: 'range'; from: string | null; to: string | null }
  /** These patient ids (ingestion batches, single patients, fit samples). */
  | { kind: 'ids'; ids: readonly string[] };

/** Extra per-patient values the recompute needs beside the features (not inputs of the scoring functions). */
export interface FeatureRowExtras {
  patientId: string;
  sortName: string;
  preferredChannel: string;
  /** Latest communication (either direction) or attended appointment, epoch ms; null when none. */
  lastContactAt: number | null;
  /** Risk score the patient had `riskTrendWindowDays` ago (latest snapshot on or before that day, else the
   * earliest snapshot since, before today); null when there is none. */
  previousRiskScore: number | null;
  /** Latest risk score recorded on or before today; null when there is none (see recordsRiskHistory). */
  lastRecordedRiskScore: number | null;
  /**
   * Whether the patient has a patient_metrics row (the organization-wide write updates it, else inserts one); null
   * for an `ids` selection (the request path upserts: planning the lookup, over a table with ten indexes, cost more
   * than it saves for a few patients).
   */
  hasMetrics: boolean | null;
}

export type FeatureRow = PatientFeatures & FeatureRowExtras;

/**
 * The features statement's columns, in the order it returns them. The organization-wide recompute reads the rows as
 * arrays (`rowMode: 'array'`) and builds each FeatureRow with `featureRowFromValues`: one object of a fixed shape,
 * instead of pg's per-row copy of a 45-key template filled in key by key (about a tenth of the recompute's Node CPU,
 * and much of its garbage).
 */
export const FEATURE_COLUMNS: readonly (keyof FeatureRow)[] = [
  'patientId', 'sortName', 'preferredChannel', 'registeredAt', 'marketingConsent', 'appointmentReminders',
  'lastEngagementAt', 'engagementsRecent', 'engagementsPrior', 'nextAppointmentAt', 'firstVisitAt', 'lastVisitAt',
  'completedVisits', 'visitValueCents', 'decayedVisits', 'decayedNoShows', 'decayedCancellations', 'recentAppointments',
  'recentNoShows', 'recentCancellations', 'decayedOutreach', 'decayedReplies', 'avgReplyHours', 'preferredChannelOutreach',
  'preferredChannelReplies', 'lastContactAt', 'netRevenueCents', 'decayedFailedPayments', 'overduePayments', 'weightedSatisfaction',
  'complaints', 'decayedComplaints', 'referralsMade', 'referredNetRevenueCents', 'activePlanRemainingValueCents', 'activePlanSessionsBehind',
  'abandonedPlans', 'planSessionsDue', 'planSessionsDone', 'previousRiskScore', 'lastRecordedRiskScore', 'hasMetrics',
];

/** A FeatureRow from the statement's values in FEATURE_COLUMNS order (as pg's type parsers return them). */
export function featureRowFromValues(v: readonly unknown[]): FeatureRow {
  return {
    patientId: v[0] as string,
    sortName: v[1] as string,
    preferredChannel: v[2] as string,
    registeredAt: v[3] as number | null,
    marketingConsent: v[4] as boolean,
    appointmentReminders: v[5] as boolean,
    lastEngagementAt: v[6] as number | null,
    engagementsRecent: v[7] as number,
    engagementsPrior: v[8] as number,
    nextAppointmentAt: v[9] as number | null,
    firstVisitAt: v[10] as number | null,
    lastVisitAt: v[11] as number | null,
    completedVisits: v[12] as number,
    visitValueCents: v[13] as number,
    decayedVisits: v[14] as number,
    decayedNoShows: v[15] as number,
    decayedCancellations: v[16] as number,
    recentAppointments: v[17] as number,
    recentNoShows: v[18] as number,
    recentCancellations: v[19] as number,
    decayedOutreach: v[20] as number,
    decayedReplies: v[21] as number,
    avgReplyHours: v[22] as number | null,
    preferredChannelOutreach: v[23] as number,
    preferredChannelReplies: v[24] as number,
    lastContactAt: v[25] as number | null,
    netRevenueCents: v[26] as number,
    decayedFailedPayments: v[27] as number,
    overduePayments: v[28] as number,
    weightedSatisfaction: v[29] as number | null,
    complaints: v[30] as number,
    decayedComplaints: v[31] as number,
    referralsMade: v[32] as number,
    referredNetRevenueCents: v[33] as number,
    activePlanRemainingValueCents: v[34] as number,
    activePlanSessionsBehind: v[35] as number,
    abandonedPlans: v[36] as number,
    planSessionsDue: v[37] as number,
    planSessionsDone: v[38] as number,
    previousRiskScore: v[39] as number | null,
    lastRecordedRiskScore: v[40] as number | null,
    hasMetrics: v[41] as boolean | null,
  };
}

/**
 * The features an organization-wide recompute keeps per patient (`patient_features`, migration 1795566805000) and
 * later runs roll forward instead of reading the records again: every FeatureRow field that comes from the records
 * (the patient's own fields, the referred patients' revenue, the risk history and hasMetrics are read afresh each
 * run). `decays`: a recency-weighted sum, multiplied by exp(-λ·Δt) to roll it forward by Δt; every other field is
 * unchanged until `valid_until`.
 */
export const KEPT_FEATURES: readonly { field: keyof FeatureRow; column: string; decays: boolean }[] = [
  { field: 'lastEngagementAt', column: 'last_engagement_at', decays: false },
  { field: 'engagementsRecent', column: 'engagements_recent', decays: false },
  { field: 'engagementsPrior', column: 'engagements_prior', decays: false },
  { field: 'nextAppointmentAt', column: 'next_appointment_at', decays: false },
  { field: 'firstVisitAt', column: 'first_visit_at', decays: false },
  { field: 'lastVisitAt', column: 'last_visit_at', decays: false },
  { field: 'completedVisits', column: 'completed_visits', decays: false },
  { field: 'visitValueCents', column: 'visit_value_cents', decays: false },
  { field: 'decayedVisits', column: 'decayed_visits', decays: true },
  { field: 'decayedNoShows', column: 'decayed_no_shows', decays: true },
  { field: 'decayedCancellations', column: 'decayed_cancellations', decays: true },
  { field: 'recentAppointments', column: 'recent_appointments', decays: false },
  { field: 'recentNoShows', column: 'recent_no_shows', decays: false },
  { field: 'recentCancellations', column: 'recent_cancellations', decays: false },
  { field: 'decayedOutreach', column: 'decayed_outreach', decays: true },
  { field: 'decayedReplies', column: 'decayed_replies', decays: true },
  { field: 'avgReplyHours', column: 'avg_reply_hours', decays: false },
  { field: 'preferredChannelOutreach', column: 'preferred_channel_outreach', decays: true },
  { field: 'preferredChannelReplies', column: 'preferred_channel_replies', decays: true },
  { field: 'lastContactAt', column: 'last_contact_at', decays: false },
  { field: 'netRevenueCents', column: 'net_revenue_cents', decays: false },
  { field: 'decayedFailedPayments', column: 'decayed_failed_payments', decays: true },
  { field: 'overduePayments', column: 'overdue_payments', decays: false },
  // A ratio of two sums decayed alike: unchanged as time passes.
  { field: 'weightedSatisfaction', column: 'weighted_satisfaction', decays: false },
  { field: 'complaints', column: 'complaints', decays: false },
  { field: 'decayedComplaints', column: 'decayed_complaints', decays: true },
  { field: 'referralsMade', column: 'referrals_made', decays: false },
  { field: 'activePlanRemainingValueCents', column: 'active_plan_remaining_value_cents', decays: false },
  { field: 'activePlanSessionsBehind', column: 'active_plan_sessions_behind', decays: false },
  { field: 'abandonedPlans', column: 'abandoned_plans', decays: false },
  { field: 'planSessionsDue', column: 'plan_sessions_due', decays: false },
  { field: 'planSessionsDone', column: 'plan_sessions_done', decays: false },
];

/**
 * Version of the features' definition: bump it whenever the features query computes any kept field differently, so
 * that rows kept by the older code are read afresh.
 */
export const KEPT_FEATURES_VERSION = 1;

/** What kept features depend on besides the records and the clock: rows kept under other settings are not reused. */
export function keptFeaturesKey(settings: ScoringSettings): string {
  return `v${KEPT_FEATURES_VERSION};half-life ${settings.decayHalfLifeDays};recent ${settings.declineRecentWindowDays};prior ${settings.declinePriorWindowDays}`;
}

/**
 * The kept features of an id range of patients, rolled forward to `now`, as FEATURE_COLUMNS (the patient's own
 * fields, the risk history and hasMetrics read as the features query reads them; "referredNetRevenueCents" 0, for
 * the caller to fill in), then "kept": false for a live patient whose kept row cannot be used: none, a tombstone
 * (records changed since), other settings, a preferred channel changed, kept as of a later instant than `now`, or
 * `now` at or past its `valid_until`. The caller reads those afresh (featuresQuery with `keep`).
 */
export function keptFeaturesQuery(
  organizationId: string,
  range: Extract<PatientSelector, { kind: 'range' }>,
  now: Date,
  settings: ScoringSettings,
  timeZone: string,
): FeaturesQuery {
  const today = localDate(now, timeZone);
  const params: unknown[] = [
    organizationId, // $1
    now, // $2
    now.getTime() / 1000, // $3
    decayRatePerSecond(settings), // $4
    keptFeaturesKey(settings), // $5
    addDays(today, -settings.riskTrendWindowDays), // $6
    today, // $7
  ];
  const sel = selectorSql(range, params);
  const field = (f: keyof FeatureRow): string => {
    const c = KEPT_FEATURES.find((k) => k.field === f);
    if (!c) throw new Error(`${f} is not a kept feature`);
    return c.decays ? `f.${c.column} * d.k` : `f.${c.column}`;
  };
  const own: Partial<Record<keyof FeatureRow, string>> = {
    patientId: 'p.id',
    sortName: 'lower(p.name)',
    preferredChannel: 'p.preferred_channel',
    registeredAt: ms('p.registered_at'),
    marketingConsent: 'p.marketing_consent',
    appointmentReminders: 'p.appointment_reminders',
    referredNetRevenueCents: '0::float8',
  };
  const columns = FEATURE_COLUMNS.filter((c) => c !== 'previousRiskScore' && c !== 'lastRecordedRiskScore' && c !== 'hasMetrics');
  const sql = `
SELECT ${columns.map((c) => `${own[c] ?? field(c)} AS "${c}"`).join(',\n  ')},
  ${riskHistoryColumns('p.id', '$6', '$7')},
  EXISTS (SELECT FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = p.id AND ${sel('m.patient_id')}) AS "hasMetrics",
  (f.computed_for IS NOT NULL AND f.settings_key = $5 AND f.preferred_channel = p.preferred_channel AND f.computed_for <= $2
    AND (f.valid_until IS NULL OR f.valid_until > $2)) AS kept
FROM patients p
LEFT JOIN patient_features f ON f.organization_id = $1 AND f.patient_id = p.id AND ${sel('f.patient_id')}
CROSS JOIN LATERAL (SELECT exp((date_part('epoch', f.computed_for) - $3) * $4) AS k) d
WHERE p.organization_id = $1 AND p.deleted_at IS NULL AND ${sel('p.id')}`;
  // The column order must be FEATURE_COLUMNS': the history columns and hasMetrics are its last three.
  const order = [...columns, 'previousRiskScore', 'lastRecordedRiskScore', 'hasMetrics'];
  if (order.some((c, i) => c !== FEATURE_COLUMNS[i])) throw new Error('keptFeaturesQuery columns out of FEATURE_COLUMNS order');
  return { sql, params };
}

export interface FeaturesQuery {
  sql: string;
  params: unknown[];
}

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

/**
 * Net revenue of a patient's payments before $2 (payments minus refunds), over rows of `payments`: the
 * netRevenueCents feature, and the referred patients' revenue of referredNetRevenueCents.
 */
const NET_REVENUE = `coalesce(sum(amount_cents) FILTER (WHERE kind = 'payment' AND status = 'paid' AND occurred_at <= $2), 0)
      - coalesce(sum(abs(amount_cents)) FILTER (WHERE kind = 'refund' AND status IN ('paid', 'refunded') AND occurred_at <= $2), 0)`;

/**
 * referredNetRevenueCents of every patient of organization $1 who referred someone before $2: Σ over the distinct
 * patients they referred of those patients' net revenue (the features query's definition). Rows (patient_id,
 * referred_net); referrers whose referred patients never paid are absent (0). Each referred patient's payments are
 * one index range (LATERAL): the hash join it replaced read the organization's whole payments table (6.6 s at a
 * million patients, 7.6 million payments, against 3.0 s for the 80,000 referred patients' ranges, cold).
 */
export function referredNetRevenueQuery(organizationId: string, now: Date): FeaturesQuery {
  return {
    sql: `
WITH d AS (
  SELECT DISTINCT referrer_patient_id, referred_patient_id FROM referrals WHERE organization_id = $1 AND referred_at <= $2
),
n AS MATERIALIZED (
  SELECT r.patient_id, v.net
  FROM (SELECT DISTINCT referred_patient_id AS patient_id FROM d) r
  CROSS JOIN LATERAL (SELECT ${NET_REVENUE} AS net FROM payments WHERE organization_id = $1 AND patient_id = r.patient_id) v
)
SELECT d.referrer_patient_id AS patient_id, sum(n.net)::float8 AS referred_net
FROM d JOIN n ON n.patient_id = d.referred_patient_id
GROUP BY d.referrer_patient_id
HAVING sum(n.net) <> 0`,
    params: [organizationId, now],
  };
}

/** Calendar date `YYYY-MM-DD` of `instant` in `timeZone` (falls back to UTC for an unknown zone). */
export function localDate(instant: Date, timeZone: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
  } catch {
    return instant.toISOString().slice(0, 10);
  }
}

function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** λ of the recency weight exp(−λ · age in seconds): ln 2 over the half-life (features and kept features alike). */
function decayRatePerSecond(settings: ScoringSettings): number {
  return Math.LN2 / (Math.max(settings.decayHalfLifeDays, 1e-6) * 86_400);
}

/** Contact channels (records.enums Channel): the preferred-channel sums are computed for each, then picked. */
const CHANNELS = Object.values(Channel);

const ms = (expr: string): string => `(date_part('epoch', ${expr}) * 1000)`;

/** Pushes the selector's parameters once; returns a function giving its predicate on any column. */
function selectorSql(selector: PatientSelector, params: unknown[]): (column: string) => string {
  if (selector.kind === 'ids') {
    params.push(selector.ids);
    const ids = params.length;
    return (column) => `${column} = ANY($${ids}::uuid[])`;
  }
  let from = 0;
  let to = 0;
  if (selector.from !== null) from = params.push(selector.from);
  if (selector.to !== null) to = params.push(selector.to);
  return (column) => {
    const parts: string[] = [];
    if (from) parts.push(`${column} >= $${from}::uuid`);
    if (to) parts.push(`${column} < $${to}::uuid`);
    return parts.length ? parts.join(' AND ') : 'TRUE';
  };
}

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
    new Date(now.getTime() - settings.declineRecentWindowDays * MS_PER_DAY), // $5 start of the recent window
    new Date(now.getTime() - (settings.declineRecentWindowDays + settings.declinePriorWindowDays) * MS_PER_DAY), // $6
    addDays(today, -settings.riskTrendWindowDays), // $7 trend baseline day
    today, // $8
  ];
  const sel = selectorSql(selector, params);
  const w = (ts: string): string => `exp((date_part('epoch', ${ts}) - $3) * $4)`;
  const keep = options.keep !== undefined;
  const engAp = engagementColumns('appointments', keep);
  const engCm = engagementColumns('communications', keep);
  const engSv = engagementColumns('survey_responses', keep);
  const engPy = engagementColumns('payments', keep);
  // Kept features: the earliest dated row still in the future, per table (when it passes, the features change).
  const future = (column: string, alias: string): string => (keep ? `,
    min(${column}) FILTER (WHERE ${column} > $2) AS ${alias}` : '');
  const lastEngagement = [...engAp.names, ...engCm.names, ...engSv.names, ...engPy.names];
  const net = NET_REVENUE;
  const edge = (kind: 'redge' | 'pedge'): string =>
    `least(${ENGAGEMENT_EVENTS.map((e, i) => `${aliasOf(e.table)}.eng_${kind}_${i}`).join(', ')})`;
  // When the kept features stop being exact (null: no date ahead changes them; see keptFeaturesQuery): the first
  // dated row to pass from the future, the first engagement event to leave the recent window (it then counts in the
  // prior one) or the prior window, and at once for a plan under way. The referrals and plans are looked up per
  // patient (their aggregates leave future rows out).
  const validUntil = `least(ap.future_at, cm.future_at, cm.reply_future_at, py.future_at, sv.future_at,
    (SELECT min(r.referred_at) FROM referrals r WHERE r.organization_id = $1 AND r.referrer_patient_id = pt_id AND r.referred_at > $2),
    (SELECT min(t.started_at) FROM treatment_plans t WHERE t.organization_id = $1 AND t.patient_id = pt_id AND t.started_at > $2),
    ${edge('redge')} + ($2::timestamptz - $5::timestamptz),
    ${edge('pedge')} + ($2::timestamptz - $6::timestamptz),
    CASE WHEN tp.moving THEN $2::timestamptz END) AS valid_until`;
  const progress = `least(1, greatest(0, ($3 - date_part('epoch', started_at)) / nullif(date_part('epoch', ends_at) - date_part('epoch', started_at), 0)))`;

  const sql = `
WITH pt AS (
  SELECT p.id AS pt_id, p.name AS pt_name, p.registered_at AS pt_registered_at, p.marketing_consent AS pt_consent,
         p.appointment_reminders AS pt_reminders, p.preferred_channel AS pt_channel
  FROM patients p
  WHERE p.organization_id = $1 AND p.deleted_at IS NULL AND ${sel('p.id')}
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
    right(string_agg(code, ''), 5) AS recent_statuses${future('starts_at', 'future_at')}${engAp.sql.map((s) => `,
    ${s}`).join('')}
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
      WHERE organization_id = $1 AND ${sel('patient_id')}
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
    ${CHANNELS.map((c) => `coalesce(sum(w) FILTER (WHERE outreach AND channel = '${c}'), 0) AS outreach_${c},
    coalesce(sum(w) FILTER (WHERE outreach AND responded_at IS NOT NULL AND channel = '${c}'), 0) AS replies_${c}`).join(',\n    ')}${future(
      'occurred_at',
      'future_at',
    )}${future('responded_at', 'reply_future_at')}${engCm.sql.map((s) => `,\n    ${s}`).join('')}
  FROM (
    -- The weight once per row (OFFSET 0 keeps the subquery, which the planner would otherwise flatten, repeating
    -- the expression in each aggregate).
    SELECT patient_id, occurred_at, responded_at, direction, kind, channel, direction = 'outbound' AND occurred_at <= $2 AS outreach,
      CASE WHEN direction = 'outbound' AND occurred_at <= $2 THEN ${w('occurred_at')} END AS w
    FROM communications
    WHERE organization_id = $1 AND ${sel('patient_id')}
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
  WHERE organization_id = $1 AND ${sel('patient_id')}
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
  WHERE organization_id = $1 AND ${sel('patient_id')}
  GROUP BY patient_id
),
rf AS (${
  options.referredNet === false
    ? `
  SELECT referrer_patient_id AS patient_id, count(*)::int AS referrals_made, 0::float8 AS referred_net
  FROM referrals
  WHERE organization_id = $1 AND referred_at <= $2 AND ${sel('referrer_patient_id')}
  GROUP BY referrer_patient_id`
    : `
  SELECT d.referrer_patient_id AS patient_id, sum(d.n)::int AS referrals_made, coalesce(sum(rev.net), 0)::float8 AS referred_net
  FROM (
    SELECT referrer_patient_id, referred_patient_id, count(*) AS n
    FROM referrals
    WHERE organization_id = $1 AND referred_at <= $2 AND ${sel('referrer_patient_id')}
    GROUP BY referrer_patient_id, referred_patient_id
  ) d
  LEFT JOIN LATERAL (
    SELECT ${net} AS net FROM payments WHERE organization_id = $1 AND patient_id = d.referred_patient_id
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
    -- A started plan not yet over whose progress moves with the clock: its features are never kept.
    bool_or(status NOT IN ('completed', 'abandoned') AND ends_at > started_at AND ends_at > $2) AS moving`
        : ''
    }
  FROM treatment_plans
  WHERE organization_id = $1 AND started_at <= $2 AND ${sel('patient_id')}
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
        ? 'EXISTS (SELECT FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = pt_id)'
        : 'NULL::boolean'
  } AS "hasMetrics"${keep ? `,
  ${validUntil}` : ''}
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
    ${KEPT_FEATURES.map((c) => c.column).join(', ')})
  SELECT $1, "patientId", $2, valid_until, $${key}, "preferredChannel", pg_current_xact_id(), ${KEPT_FEATURES.map((c) => `"${c.field}"`).join(', ')}
  FROM f ORDER BY "patientId"
  ON CONFLICT (organization_id, patient_id) DO UPDATE SET computed_for = EXCLUDED.computed_for, valid_until = EXCLUDED.valid_until,
    settings_key = EXCLUDED.settings_key, preferred_channel = EXCLUDED.preferred_channel, written_xid = EXCLUDED.written_xid,
    ${KEPT_FEATURES.map((c) => `${c.column} = EXCLUDED.${c.column}`).join(', ')}
  WHERE pg_visible_in_snapshot(pf.written_xid, pg_current_snapshot())
)
SELECT ${FEATURE_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM f`;
  return { sql: kept, params };
}

/**
 * A patient's last recorded risk scores, for the trend and the history rules: "previousRiskScore" (the score about
 * `riskTrendWindowDays` ago: the latest on or before the baseline day, else the earliest after it and before today)
 * and "lastRecordedRiskScore" (the latest on or before today). `id`: the patient id column; the two days as
 * parameters.
 */
function riskHistoryColumns(id: string, baselineDay: string, today: string): string {
  // risk_score is real: sent as real (its shortest text, "40.3"), not as float8 (40.29999923706055), so that the
  // trend and history rules compare one-decimal scores exactly.
  return `coalesce(
    (SELECT h.risk_score FROM risk_score_history h
      WHERE h.patient_id = ${id} AND h.recorded_on <= ${baselineDay}::date
      ORDER BY h.recorded_on DESC LIMIT 1),
    (SELECT h.risk_score FROM risk_score_history h
      WHERE h.patient_id = ${id} AND h.recorded_on > ${baselineDay}::date AND h.recorded_on < ${today}::date
      ORDER BY h.recorded_on ASC LIMIT 1)
  ) AS "previousRiskScore",
  (SELECT h.risk_score FROM risk_score_history h
    WHERE h.patient_id = ${id} AND h.recorded_on <= ${today}::date
    ORDER BY h.recorded_on DESC LIMIT 1) AS "lastRecordedRiskScore"`;
}

