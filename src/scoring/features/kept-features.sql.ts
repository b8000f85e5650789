import { addDays, localDate } from 'src/common/time/calendar';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { FEATURE_COLUMNS, type FeatureRow, type PatientSelector } from 'src/scoring/features/feature-row';
import {
  decayRatePerSecond,
  type FeaturesQuery,
  ms,
  riskHistoryColumns,
  riskHistoryWindowPass,
  selectorSql,
} from 'src/scoring/features/sql-fragments';

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
 * A treatment plan (a row of `treatment_plans`, up to the run's instant $2) whose expected progress moves with the
 * clock: started, neither completed nor abandoned, its end date ahead. activePlanSessionsBehind and planSessionsDue
 * sum a term per plan that depends on that progress; past its end date the progress stays 1, so a plan's term only
 * moves while it is one of these.
 */
export const MOVING_PLAN = `status NOT IN ('completed', 'abandoned') AND ends_at > started_at AND ends_at > $2`;

/**
 * The kept features that are kept as their settled part only (the sum over the plans that are not MOVING_PLAN), the
 * moving plans themselves kept beside them (`moving_plans`: planned sessions, completed sessions, start and end in
 * epoch seconds, active 1 or 0): the columns of the features query's statement (with `keep`) that are written for them.
 */
export const KEPT_SETTLED: Partial<Record<keyof FeatureRow, string>> = {
  activePlanSessionsBehind: 'kept_sessions_behind',
  planSessionsDue: 'kept_sessions_due',
};

/**
 * The moving plans' terms at the run's instant ($3, epoch seconds), summed: the same arithmetic as the features
 * query's (src/scoring/features/features.sql.ts, `tp`), on the start and end it read (date_part('epoch', ...)), so
 * each term is the same float8. Added to the settled part: a patient with settled plans and one under way gets the
 * same sum in another order (equal to the last bits; kept-features.int-spec.ts compares to 1e-9).
 */
function movingPlansSum(term: 'behind' | 'due'): string {
  const m = (k: number): string => `f.moving_plans[i][${k}]`;
  const progress = `least(1, greatest(0, ($3 - ${m(3)}) / nullif(${m(4)} - ${m(3)}, 0)))`;
  const sum =
    term === 'behind'
      ? `sum(greatest(0, ${m(1)} * ${progress} - ${m(2)})) FILTER (WHERE ${m(5)} = 1)`
      : `sum(${m(1)} * ${progress})`;
  return `coalesce((SELECT ${sum} FROM generate_subscripts(f.moving_plans, 1) AS i), 0)`;
}

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
 *
 * The risk history: by the three lookups a patient (riskHistoryColumns), or with `history: 'window'` by the window's
 * pass and one lookup a patient (riskHistoryWindowPass: a small organization's nightly read, readChunk's `history`).
 * The same values either way.
 */
export function keptFeaturesQuery(
  organizationId: string,
  range: Extract<PatientSelector, { kind: 'range' }>,
  now: Date,
  settings: ScoringSettings,
  timeZone: string,
  history: 'window' | 'lookups' = 'lookups',
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
    if (f === 'activePlanSessionsBehind') return `CASE WHEN f.moving_plans IS NULL THEN f.${c.column} ELSE f.${c.column} + ${movingPlansSum('behind')} END`;
    if (f === 'planSessionsDue') return `CASE WHEN f.moving_plans IS NULL THEN f.${c.column} ELSE f.${c.column} + ${movingPlansSum('due')} END`;
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
  const windowed = history === 'window' ? riskHistoryWindowPass('p.id', '$6', '$7', sel) : null;
  const sql = `
SELECT ${columns.map((c) => `${own[c] ?? field(c)} AS "${c}"`).join(',\n  ')},
  ${windowed ? windowed.columns : riskHistoryColumns('p.id', '$6', '$7')},
  EXISTS (SELECT FROM patient_metrics m WHERE m.organization_id = $1 AND m.patient_id = p.id AND ${sel('m.patient_id')}) AS "hasMetrics",
  (f.computed_for IS NOT NULL AND f.settings_key = $5 AND f.preferred_channel = p.preferred_channel AND f.computed_for <= $2
    AND (f.valid_until IS NULL OR f.valid_until > $2)) AS kept
FROM patients p
LEFT JOIN patient_features f ON f.organization_id = $1 AND f.patient_id = p.id AND ${sel('f.patient_id')}${windowed ? `\n${windowed.joins}` : ''}
CROSS JOIN LATERAL (SELECT exp((date_part('epoch', f.computed_for) - $3) * $4) AS k) d
WHERE p.organization_id = $1 AND p.deleted_at IS NULL AND ${sel('p.id')}`;
  // The column order must be FEATURE_COLUMNS': the history columns and hasMetrics are its last three.
  const order = [...columns, 'previousRiskScore', 'lastRecordedRiskScore', 'hasMetrics'];
  if (order.some((c, i) => c !== FEATURE_COLUMNS[i])) throw new Error('keptFeaturesQuery columns out of FEATURE_COLUMNS order');
  return { sql, params };
}
