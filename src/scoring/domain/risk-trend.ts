/**
 * Risk trend over settings.riskTrendWindowDays (30): compares the current risk score with the score recorded about
 * that long ago. Down by at least riskTrendThreshold (5) points → improving; up by at least 5 → declining (the
 * patient's situation is getting worse); otherwise, or without an earlier score, stable.
 */
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';

/** The risk summary's trends (the one definition). */
export const RiskTrend = {
  Improving: 'improving',
  Stable: 'stable',
  Declining: 'declining',
} as const;
export type RiskTrend = (typeof RiskTrend)[keyof typeof RiskTrend];

export function riskTrend(
  current: number,
  previous: number | null,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): RiskTrend {
  if (previous === null || !Number.isFinite(previous) || !Number.isFinite(current)) return 'stable';
  const change = current - previous;
  // Scores carry one decimal; compare with a little slack so 40.0 → 35.0 is a 5-point drop despite rounding.
  if (change <= -settings.riskTrendThreshold + 1e-9) return 'improving';
  if (change >= settings.riskTrendThreshold - 1e-9) return 'declining';
  return 'stable';
}

/**
 * Whether today's score goes into the risk history: when nothing is recorded yet, or when it is at least
 * settings.riskHistoryStep (1) point away from the last recorded score (same one-decimal slack as the trend).
 * The history is thus a step function that stays within the step of the daily scores.
 */
export function recordsRiskHistory(
  current: number,
  lastRecorded: number | null,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): boolean {
  if (lastRecorded === null || !Number.isFinite(lastRecorded)) return true;
  return Math.abs(current - lastRecorded) >= settings.riskHistoryStep - 1e-9;
}
