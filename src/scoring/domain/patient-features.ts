import { DAY_MS } from 'src/common/time/calendar';
/**
 * Per-patient aggregates: the only input of the scoring functions. One set-based SQL query computes a row per
 * patient (GROUP BY patient / window functions), so scoring a million patients never loads their events.
 *
 * Conventions of the pseudo-SQL below:
 * - dates are epoch milliseconds (`extract(epoch from ts) * 1000`), `null` when there is no such event;
 * - `:now` is the scoring time (a parameter, never `now()`), only rows with their timestamp <= :now count unless
 *   said otherwise, and `age(ts) = extract(epoch from (:now - ts)) / 86400` is in days;
 * - `w(ts) = exp(-ln(2) * age(ts) / :decayHalfLifeDays)` is the recency weight: 1 today, 1/2 after one half-life
 *   (settings.decayHalfLifeDays, default 180 days), so recent behaviour weighs more than old;
 * - "decayed count" = Σ w(ts) over the rows;
 * - counts and sums are 0 (not null) when there are no rows: use coalesce(…, 0).
 * Every field's default (see `emptyFeatures`) is what a patient with no rows of that kind gets.
 * Non-finite or negative numbers are treated as the default by the scoring functions (never NaN out).
 */
export interface PatientFeatures {
  // --- patient ---
  /** patients.registered_at; default null (then the patient is treated as having no history at all). */
  registeredAt: number | null;
  /** patients.marketing_consent; default false. */
  marketingConsent: boolean;
  /** patients.appointment_reminders; default false. */
  appointmentReminders: boolean;

  // --- engagement events (see engagement-events.ts for the one definition) ---
  /** max(occurred_at) over engagement events; default null. */
  lastEngagementAt: number | null;
  /** count(*) of engagement events with 0 <= age < :declineRecentWindowDays (default 90); default 0. */
  engagementsRecent: number;
  /** count(*) of engagement events with :declineRecentWindowDays <= age < :declineRecentWindowDays +
   * :declinePriorWindowDays (default 90..270 days ago); default 0. */
  engagementsPrior: number;

  // --- appointments ---
  /** min(starts_at) where status = 'scheduled' and starts_at > :now; default null. */
  nextAppointmentAt: number | null;
  /** min(starts_at) where status = 'completed'; default null. */
  firstVisitAt: number | null;
  /** max(starts_at) where status = 'completed'; default null. */
  lastVisitAt: number | null;
  /** count(*) where status = 'completed' (= total sessions); default 0. */
  completedVisits: number;
  /** sum(value_cents) where status = 'completed'; default 0. */
  visitValueCents: number;
  /** Σ w(starts_at) where status = 'completed'; default 0. */
  decayedVisits: number;
  /** Σ w(starts_at) where status = 'no_show'; default 0. */
  decayedNoShows: number;
  /** Σ w(starts_at) where status = 'cancelled'; default 0. */
  decayedCancellations: number;
  /** Among the patient's last 5 past appointments with status in ('completed','no_show','cancelled')
   * (row_number() over (partition by patient_id order by starts_at desc) <= 5): count(*); default 0. */
  recentAppointments: number;
  /** … of which status = 'no_show'; default 0. */
  recentNoShows: number;
  /** … of which status = 'cancelled'; default 0. */
  recentCancellations: number;

  // --- communications ---
  /** Σ w(occurred_at) where direction = 'outbound' (the clinic's outreach, any channel and kind); default 0. */
  decayedOutreach: number;
  /** Σ w(occurred_at) where direction = 'outbound' and responded_at is not null; default 0. */
  decayedReplies: number;
  /** avg(extract(epoch from responded_at - occurred_at) / 3600) where direction = 'outbound' and responded_at is
   * not null: mean reply lag in hours; default null. */
  avgReplyHours: number | null;
  /** Like decayedOutreach, restricted to channel = patients.preferred_channel; default 0. */
  preferredChannelOutreach: number;
  /** Like decayedReplies, restricted to channel = patients.preferred_channel; default 0. */
  preferredChannelReplies: number;

  // --- payments ---
  /** sum(amount_cents) where kind = 'payment' and status = 'paid' minus sum(abs(amount_cents)) where
   * kind = 'refund' and status in ('paid','refunded'); may be negative; default 0. */
  netRevenueCents: number;
  /** Σ w(occurred_at) where status = 'failed'; default 0. */
  decayedFailedPayments: number;
  /** count(*) where status = 'overdue' (currently outstanding, so not decayed, no date filter); default 0. */
  overduePayments: number;

  // --- surveys ---
  /** Σ w(submitted_at) · satisfaction / Σ w(submitted_at) over rows with satisfaction not null: recency-weighted
   * mean rating 1-5; default null. */
  weightedSatisfaction: number | null;
  /** count(*) where complaint; default 0. */
  complaints: number;
  /** Σ w(submitted_at) where complaint; default 0. */
  decayedComplaints: number;

  // --- referrals ---
  /** count(*) of referrals where referrer = patient; default 0. */
  referralsMade: number;
  /** Σ over those referred patients of their netRevenueCents (same definition); default 0. */
  referredNetRevenueCents: number;

  // --- treatment plans (dates: started_at, ends_at; plans with started_at > :now are ignored) ---
  /** Σ greatest(0, planned_sessions - completed_sessions) · session_value_cents where status = 'active';
   * default 0. */
  activePlanRemainingValueCents: number;
  /** Σ greatest(0, planned_sessions · least(1, greatest(0, age(started_at) / (ends_at - started_at in days)))
   * - completed_sessions) where status = 'active' and ends_at > started_at: sessions behind schedule assuming an
   * even pace between start and end; default 0. */
  activePlanSessionsBehind: number;
  /** count(*) where status = 'abandoned'; default 0. */
  abandonedPlans: number;
  /** Σ of sessions due so far: planned_sessions for 'completed' and 'abandoned' plans, the even-pace expected
   * count above (planned_sessions · progress) for 'active' ones; default 0. */
  planSessionsDue: number;
  /** Σ completed_sessions over the same plans; default 0. */
  planSessionsDone: number;
}

/** A patient with no data at all: every field at its documented default. */
export function emptyFeatures(overrides: Partial<PatientFeatures> = {}): PatientFeatures {
  return {
    registeredAt: null,
    marketingConsent: false,
    appointmentReminders: false,
    lastEngagementAt: null,
    engagementsRecent: 0,
    engagementsPrior: 0,
    nextAppointmentAt: null,
    firstVisitAt: null,
    lastVisitAt: null,
    completedVisits: 0,
    visitValueCents: 0,
    decayedVisits: 0,
    decayedNoShows: 0,
    decayedCancellations: 0,
    recentAppointments: 0,
    recentNoShows: 0,
    recentCancellations: 0,
    decayedOutreach: 0,
    decayedReplies: 0,
    avgReplyHours: null,
    preferredChannelOutreach: 0,
    preferredChannelReplies: 0,
    netRevenueCents: 0,
    decayedFailedPayments: 0,
    overduePayments: 0,
    weightedSatisfaction: null,
    complaints: 0,
    decayedComplaints: 0,
    referralsMade: 0,
    referredNetRevenueCents: 0,
    activePlanRemainingValueCents: 0,
    activePlanSessionsBehind: 0,
    abandonedPlans: 0,
    planSessionsDue: 0,
    planSessionsDone: 0,
    ...overrides,
  };
}

/** A count or amount as the scoring functions read it: non-finite or negative → 0. */
export function safeCount(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** A nullable date as the scoring functions read it: non-finite → null. */
export function safeDate(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

/** Whole-and-fractional days from `from` to `now` (negative when `from` is in the future). */
export function daysBetween(from: number, now: number): number {
  return (now - from) / DAY_MS;
}

/** Clamp to [0, 1], NaN → 0. */
export function clampUnit(value: number): number {
  if (!(value > 0)) return 0;
  return value < 1 ? value : 1;
}
