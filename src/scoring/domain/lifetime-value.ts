/**
 * Lifetime value (spec "LTV Calculation"), integer cents, never negative:
 *
 *   total = historical + predicted + referral
 *   historical = max(0, netRevenueCents)                       payments received minus refunds
 *   predicted  = max(modelValue, activePlanRemainingValueCents) the next settings.ltvHorizonDays (365)
 *   modelValue = E[visits in the horizon | x, t_x, T] (BG/NBD) × E[value per visit | x, z̄] (Gamma-Gamma)
 *   referral   = settings.referralValueShare (10 %) × max(0, net revenue of the patients they referred)
 *
 * A treatment plan is a stated intention, so where it promises more than the statistical forecast it wins; it never
 * lowers the forecast. Without fitted models (small clinic) or without a completed visit, modelValue is 0 and the
 * prediction rests on the active plans alone.
 */
import { expectedVisits } from 'src/scoring/domain/bg-nbd';
import { expectedAverageValue } from 'src/scoring/domain/gamma-gamma';
import { safeCount, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { repeatHistory, type ScoringModels } from 'src/scoring/domain/scoring-models';

export interface LifetimeValue {
  historicalCents: number;
  predictedCents: number;
  referralCents: number;
  totalCents: number;
  /** Expected completed visits in the horizon (BG/NBD), 0 without models. */
  expectedVisits: number;
  /** Expected value of a future visit in cents (Gamma-Gamma), 0 without models. */
  expectedVisitValueCents: number;
}

/** Each part is capped here (≈ 22 trillion currency units) so the total of three parts is a safe integer. */
export const MAX_PART_CENTS = 2 ** 51;

/** Non-negative integer cents, capped; NaN and infinities become 0. */
function cents(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.min(MAX_PART_CENTS, Math.round(value)) : 0;
}

/** Completed appointments (the API's total_sessions). */
export function totalSessions(features: PatientFeatures): number {
  return Math.round(safeCount(features.completedVisits));
}

/** Mean value of a completed appointment in cents (the API's avg_session_value); 0 without visits. */
export function avgSessionValue(features: PatientFeatures): number {
  const sessions = totalSessions(features);
  return sessions > 0 ? cents(safeCount(features.visitValueCents) / sessions) : 0;
}

export function lifetimeValue(
  features: PatientFeatures,
  now: number,
  models: ScoringModels | null,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): LifetimeValue {
  const historicalCents = cents(features.netRevenueCents);
  let visits = 0;
  let visitValue = 0;
  const history = repeatHistory(features, now, settings);
  if (models !== null && history !== null) {
    visits = safe(() => expectedVisits(models.bgnbd, history, settings.ltvHorizonDays / settings.modelTimeUnitDays));
    const sessions = totalSessions(features);
    visitValue = safe(() => expectedAverageValue(models.gammaGamma, sessions, safeCount(features.visitValueCents) / sessions));
  }
  const predictedCents = Math.max(cents(visits * visitValue), cents(features.activePlanRemainingValueCents));
  const referralCents = cents(settings.referralValueShare * safeCount(features.referredNetRevenueCents));
  return {
    historicalCents,
    predictedCents,
    referralCents,
    totalCents: historicalCents + predictedCents + referralCents,
    expectedVisits: visits,
    expectedVisitValueCents: visitValue,
  };
}

/** A model evaluation that failed to converge or produced garbage contributes 0 rather than an error. */
function safe(compute: () => number): number {
  try {
    const value = compute();
    return Number.isFinite(value) && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}
