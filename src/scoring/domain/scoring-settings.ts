/**
 * Every threshold, weight and window of the scoring engine, with defaults. Organization settings override them
 * later (a partial object merged over DEFAULT_SCORING_SETTINGS with `scoringSettings()`). Windows and the half-life
 * are also parameters of the features SQL, so the same object must be passed to both.
 */
export interface ScoringSettings {
  /** Days since the last engagement below which a patient is active (default 30). */
  activeWithinDays: number;
  /** Days since the last engagement from which a patient is at risk (default 90); in between: dormant. */
  atRiskAfterDays: number;
  /** Length of the "recent" window of the declining-pattern test (default 90 days). */
  declineRecentWindowDays: number;
  /** Length of the earlier comparison window right before it (default 180 days). */
  declinePriorWindowDays: number;
  /** Minimum engagement events in the earlier window before a decline can be judged (default 4). */
  declineMinPriorEvents: number;
  /** Declining when the recent daily rate is below (1 - this) × the earlier daily rate (default 0.5). */
  declineDropFraction: number;
  /** Half-life of the exponential recency decay applied in SQL (default 180 days). */
  decayHalfLifeDays: number;
  /** Usual visit interval assumed for patients with fewer than two visits (default 90 days). */
  defaultVisitIntervalDays: number;
  /** Risk-level cut-offs: low < mediumFrom <= medium < highFrom <= high (defaults 35 and 60). */
  riskMediumFrom: number;
  riskHighFrom: number;
  /** A risk change of at least this many points over `riskTrendWindowDays` is a trend (default 5). */
  riskTrendThreshold: number;
  riskTrendWindowDays: number;
  /**
   * The risk history stores a day's score only when it is at least this many points away from the last stored one
   * (default 1): about one row per patient per month instead of one a day, since recency decay moves most scores
   * by a few tenths every day. The score of `riskTrendWindowDays` ago is then known to within this step.
   */
  riskHistoryStep: number;
  /** Share of referred patients' net revenue credited to the referrer's LTV (default 0.10). */
  referralValueShare: number;
  /** Horizon of the predicted future value (default 365 days). */
  ltvHorizonDays: number;
  /** Time unit of the BG/NBD and Gamma-Gamma models (default 7 days: weeks, as in the literature). */
  modelTimeUnitDays: number;
  /** At most this many patients are used to fit the models (default 20,000), see fit-sample.ts. */
  fitSampleSize: number;
  /** Seed of the fit sample, so refits are reproducible (default 20250101). */
  fitSampleSeed: number;
}

export const DEFAULT_SCORING_SETTINGS: Readonly<ScoringSettings> = Object.freeze({
  activeWithinDays: 30,
  atRiskAfterDays: 90,
  declineRecentWindowDays: 90,
  declinePriorWindowDays: 180,
  declineMinPriorEvents: 4,
  declineDropFraction: 0.5,
  decayHalfLifeDays: 180,
  defaultVisitIntervalDays: 90,
  riskMediumFrom: 35,
  riskHighFrom: 60,
  riskTrendThreshold: 5,
  riskTrendWindowDays: 30,
  riskHistoryStep: 1,
  referralValueShare: 0.1,
  ltvHorizonDays: 365,
  modelTimeUnitDays: 7,
  fitSampleSize: 20_000,
  fitSampleSeed: 20250101,
});

/** A setting that is out of its range or contradicts another one (`related`). */
export interface ScoringSettingsProblem {
  field: keyof ScoringSettings;
  message: string;
  /** The other setting of a contradictory pair (e.g. activeWithinDays ≥ atRiskAfterDays). */
  related?: keyof ScoringSettings;
}

/** Settings that divide or count days: each must be above 0 (a zero window or half-life would divide by zero). */
const POSITIVE: readonly (keyof ScoringSettings)[] = [
  'activeWithinDays',
  'atRiskAfterDays',
  'declineRecentWindowDays',
  'declinePriorWindowDays',
  'decayHalfLifeDays',
  'defaultVisitIntervalDays',
  'ltvHorizonDays',
  'modelTimeUnitDays',
  'riskTrendThreshold',
  'riskTrendWindowDays',
  'riskHistoryStep',
];

/**
 * What is wrong with a complete set of settings (empty when nothing): windows, half-life and steps above 0,
 * activeWithinDays < atRiskAfterDays (the last-contact risk divides by their difference), riskMediumFrom <
 * riskHighFrom within [0, 100], fractions within [0, 1], counts whole. The settings API refuses what this names;
 * `scoringSettings` repairs stored values it names (see there).
 */
export function scoringSettingsProblems(s: ScoringSettings): ScoringSettingsProblem[] {
  const problems: ScoringSettingsProblem[] = [];
  for (const key of Object.keys(DEFAULT_SCORING_SETTINGS) as (keyof ScoringSettings)[]) {
    if (typeof s[key] !== 'number' || !Number.isFinite(s[key])) problems.push({ field: key, message: 'must be a finite number' });
  }
  if (problems.length > 0) return problems;
  for (const key of POSITIVE) if (!(s[key] > 0)) problems.push({ field: key, message: 'must be greater than 0' });
  if (s.activeWithinDays > 0 && s.atRiskAfterDays > 0 && s.activeWithinDays >= s.atRiskAfterDays) {
    problems.push({ field: 'activeWithinDays', related: 'atRiskAfterDays', message: `must be less than atRiskAfterDays (${s.atRiskAfterDays})` });
  }
  for (const key of ['riskMediumFrom', 'riskHighFrom'] as const) {
    if (!(s[key] > 0 && s[key] <= 100)) problems.push({ field: key, message: 'must be greater than 0 and at most 100' });
  }
  if (s.riskMediumFrom >= s.riskHighFrom) {
    problems.push({ field: 'riskMediumFrom', related: 'riskHighFrom', message: `must be less than riskHighFrom (${s.riskHighFrom})` });
  }
  for (const key of ['declineDropFraction', 'referralValueShare'] as const) {
    if (!(s[key] >= 0 && s[key] <= 1)) problems.push({ field: key, message: 'must be between 0 and 1' });
  }
  if (!(Number.isInteger(s.declineMinPriorEvents) && s.declineMinPriorEvents >= 0)) {
    problems.push({ field: 'declineMinPriorEvents', message: 'must be a whole number, 0 or more' });
  }
  if (!(Number.isInteger(s.fitSampleSize) && s.fitSampleSize >= 50)) problems.push({ field: 'fitSampleSize', message: 'must be a whole number, 50 or more' });
  if (!Number.isInteger(s.fitSampleSeed)) problems.push({ field: 'fitSampleSeed', message: 'must be a whole number' });
  return problems;
}

/**
 * Defaults overridden by an organization's values; non-finite overrides are ignored. Stored values that
 * `scoringSettingsProblems` names are repaired, never used: each named setting (and the other of a contradictory
 * pair) goes back to its default; if that still leaves a contradiction (an override against the other's default,
 * e.g. activeWithinDays 100 with the default atRiskAfterDays 90), every override is dropped. So no rule ever divides
 * by a zero window or a zero span between thresholds. The settings API refuses such values before they are stored.
 */
export function scoringSettings(overrides: Partial<ScoringSettings> = {}): ScoringSettings {
  const merged: ScoringSettings = { ...DEFAULT_SCORING_SETTINGS };
  for (const key of Object.keys(overrides) as (keyof ScoringSettings)[]) {
    const value = overrides[key];
    if (key in DEFAULT_SCORING_SETTINGS && typeof value === 'number' && Number.isFinite(value)) merged[key] = value;
  }
  const problems = scoringSettingsProblems(merged);
  if (problems.length === 0) return merged;
  for (const p of problems) {
    merged[p.field] = DEFAULT_SCORING_SETTINGS[p.field];
    if (p.related) merged[p.related] = DEFAULT_SCORING_SETTINGS[p.related];
  }
  return scoringSettingsProblems(merged).length === 0 ? merged : { ...DEFAULT_SCORING_SETTINGS };
}
