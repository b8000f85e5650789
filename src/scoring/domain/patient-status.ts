/**
 * Patient status: active, dormant or at risk (spec "Patient Status Classification"), with the open cases decided.
 *
 * Let d = days (elapsed time / 24 h, not calendar days) since the last engagement event (engagement-events.ts).
 * 1. An upcoming appointment (status scheduled, after now) → active, whatever else.
 * 2. d < activeWithinDays (30) → active, even when the pattern is declining: the patient is demonstrably engaged.
 * 3. activeWithinDays <= d < atRiskAfterDays (30 ≤ d < 90):
 *    - no appointment history (never attended, no past appointment at all) → at_risk: the spec's "dormant" needs
 *      appointment history; someone who got in touch but never came is a lead going cold;
 *    - declining engagement pattern (below) → at_risk;
 *    - otherwise → dormant.
 * 4. d >= atRiskAfterDays (90) → at_risk.
 * No engagement ever: the registration counts as the first engagement, so a patient registered 10 days ago with
 * nothing else is active, 40 days ago (no appointment history) at risk. Nothing known at all (no engagement and
 * no registration date) → at_risk, so the patient surfaces for follow-up rather than hiding as "active".
 * An engagement dated in the future (clock skew) counts as today.
 */
import { safeCount, safeDate, daysBetween, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';

/** The spec's three statuses (the one definition: entities, DTOs and queries use it). */
export const PatientStatus = {
  Active: 'active',
  Dormant: 'dormant',
  AtRisk: 'at_risk',
} as const;
export type PatientStatus = (typeof PatientStatus)[keyof typeof PatientStatus];

export const PATIENT_STATUSES: readonly PatientStatus[] = Object.values(PatientStatus);

/**
 * Declining engagement pattern: the patient's engagement rate in the recent window (last 90 days) fell below half
 * of their own rate in the 180 days before it, and that earlier window has at least `declineMinPriorEvents` (4)
 * events, so one or two stray events never make a pattern. Rates are events per day:
 * engagementsRecent / 90 < (1 - 0.5) · engagementsPrior / 180.
 */
export function isDecliningEngagement(
  features: PatientFeatures,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): boolean {
  const prior = safeCount(features.engagementsPrior);
  if (prior < settings.declineMinPriorEvents) return false;
  const recentRate = safeCount(features.engagementsRecent) / settings.declineRecentWindowDays;
  const priorRate = prior / settings.declinePriorWindowDays;
  return recentRate < (1 - settings.declineDropFraction) * priorRate;
}

/** Whether the patient has ever had an appointment that took place (or was missed or cancelled). */
export function hasAppointmentHistory(features: PatientFeatures): boolean {
  return safeCount(features.completedVisits) > 0 || safeCount(features.recentAppointments) > 0 || safeDate(features.firstVisitAt) !== null;
}

/** Days since the last engagement, falling back to registration; null when neither is known. */
export function daysSinceEngagement(features: PatientFeatures, now: number): number | null {
  const reference = safeDate(features.lastEngagementAt) ?? safeDate(features.registeredAt);
  return reference === null ? null : Math.max(0, daysBetween(reference, now));
}

export function classifyStatus(
  features: PatientFeatures,
  now: number,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): PatientStatus {
  const next = safeDate(features.nextAppointmentAt);
  if (next !== null && next > now) return 'active';
  const days = daysSinceEngagement(features, now);
  if (days === null) return 'at_risk';
  if (days < settings.activeWithinDays) return 'active';
  if (days >= settings.atRiskAfterDays) return 'at_risk';
  if (!hasAppointmentHistory(features)) return 'at_risk';
  return isDecliningEngagement(features, settings) ? 'at_risk' : 'dormant';
}
