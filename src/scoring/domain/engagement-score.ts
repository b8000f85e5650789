/**
 * Engagement score 0-100 (spec "Engagement Score Calculation"): how involved the patient is with the clinic.
 * base = Σ weight · component, components in [0, 1], weights summing to 100:
 *
 * | component   | weight | value                                                                                  |
 * |-------------|-------:|----------------------------------------------------------------------------------------|
 * | attendance  |     30 | (decayedVisits + 0.8) / (decayedVisits + decayedNoShows + 0.5·decayedCancellations + 1) |
 * | responsive  |     25 | 0.8 · (decayedReplies + 1.4) / (decayedOutreach + 2) + 0.2 · (1 - replyLagRisk)          |
 * | satisfaction|     20 | (weightedSatisfaction - 1) / 4 (unknown: 0.6) · exp(-0.5 · decayedComplaints)            |
 * | compliance  |     15 | planSessionsDone / planSessionsDue capped at 1 (no plan: 0.8)                           |
 * | referrals   |     10 | 1 - exp(-referralsMade / 2)                                                             |
 *
 * The smoothing constants pull a patient with little data towards a neutral-good value (80 % attendance, 70 %
 * replies) instead of 0 or 100. Recency weighting: the inputs are decayed in SQL, and the base is multiplied by
 * 0.5 + 0.5 · 2^(-days since last engagement / half-life), so a patient who stopped engaging a half-life ago keeps
 * 75 % of their score. Days are counted from registration when the patient never engaged, and the factor is 0.5
 * when nothing is known.
 */
import { daysSinceEngagement } from 'src/scoring/domain/patient-status';
import { safeCount, clampUnit, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';

export type EngagementComponentKey = 'attendance' | 'responsiveness' | 'satisfaction' | 'compliance' | 'referrals';

export const ENGAGEMENT_WEIGHTS: Readonly<Record<EngagementComponentKey, number>> = Object.freeze({
  attendance: 30,
  responsiveness: 25,
  satisfaction: 20,
  compliance: 15,
  referrals: 10,
});

export function engagementComponents(f: PatientFeatures): Record<EngagementComponentKey, number> {
  const visits = safeCount(f.decayedVisits);
  const attendance = clampUnit((visits + 0.8) / (visits + safeCount(f.decayedNoShows) + 0.5 * safeCount(f.decayedCancellations) + 1));
  const outreach = safeCount(f.decayedOutreach);
  const replies = Math.min(safeCount(f.decayedReplies), outreach);
  const lagHours = f.avgReplyHours === null ? 0 : safeCount(f.avgReplyHours);
  const lagRisk = clampUnit((lagHours - 24) / (7 * 24 - 24));
  const responsiveness = clampUnit(0.8 * ((replies + 1.4) / (outreach + 2)) + 0.2 * (1 - lagRisk));
  const rating = f.weightedSatisfaction;
  const ratingValue = rating === null || !Number.isFinite(rating) ? 0.6 : clampUnit((rating - 1) / 4);
  const satisfaction = clampUnit(ratingValue * Math.exp(-0.5 * safeCount(f.decayedComplaints)));
  const due = safeCount(f.planSessionsDue);
  const compliance = due > 0 ? clampUnit(safeCount(f.planSessionsDone) / due) : 0.8;
  const referrals = clampUnit(1 - Math.exp(-safeCount(f.referralsMade) / 2));
  return { attendance, responsiveness, satisfaction, compliance, referrals };
}

/** 0-100 with one decimal; always finite. */
export function engagementScore(
  features: PatientFeatures,
  now: number,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): number {
  const components = engagementComponents(features);
  let base = 0;
  for (const key of Object.keys(ENGAGEMENT_WEIGHTS) as EngagementComponentKey[]) {
    base += ENGAGEMENT_WEIGHTS[key] * components[key];
  }
  const days = daysSinceEngagement(features, now);
  const recency = days === null ? 0.5 : 0.5 + 0.5 * Math.pow(2, -days / settings.decayHalfLifeDays);
  const score = base * clampUnit(recency);
  return Number.isFinite(score) ? Math.round(Math.min(100, Math.max(0, score)) * 10) / 10 : 0;
}
