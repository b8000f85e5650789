/**
 * Risk score 0-100 (spec "Risk Score Calculation"): how likely the patient is to drift away from the clinic.
 * A weighted sum of eight components in [0, 1] (risk-components.ts); the weights sum to 100, so each weight is the
 * number of points that component adds at its worst. Recent behaviour weighs more because the inputs are
 * recency-decayed (half-life settings.decayHalfLifeDays) or are "days since" measures.
 *
 * | component       | weight | what it measures                                              |
 * |-----------------|-------:|---------------------------------------------------------------|
 * | visitGap        |     25 | days since last visit ÷ the patient's usual interval          |
 * | noShows         |     15 | missed appointments: share of the last 5, decayed share/count |
 * | responsiveness  |     13 | reply rate to the clinic's outreach and reply lag             |
 * | lastContact     |     13 | days since any engagement                                     |
 * | payments        |     12 | failed (decayed) and overdue payments                         |
 * | satisfaction    |      8 | recency-weighted rating and complaints                        |
 * | cancellations   |      7 | cancelled appointments (decayed)                              |
 * | treatment       |      7 | abandoned plans, sessions behind schedule on active plans     |
 *
 * Level: low < riskMediumFrom (35) ≤ medium < riskHighFrom (60) ≤ high. Calibration: a patient who has only
 * lapsed (no visit for 4+ usual intervals, no contact for 150+ days) scores about 40, medium; add a second serious
 * problem (missed appointments, overdue payments, a complaint) and the score reaches high.
 * Factors: the facts of the components adding at least 2.5 points, largest contribution first, at most 4.
 */
import type { PatientFeatures } from 'src/scoring/domain/patient-features';
import {
  cancellations,
  lastContact,
  noShows,
  payments,
  responsiveness,
  satisfaction,
  treatment,
  visitGap,
  type RiskComponent,
  type RiskComponentKey,
} from 'src/scoring/domain/risk-components';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';

/** The spec's risk levels (the one definition). */
export const RiskLevel = {
  Low: 'low',
  Medium: 'medium',
  High: 'high',
} as const;
export type RiskLevel = (typeof RiskLevel)[keyof typeof RiskLevel];

export const RISK_WEIGHTS: Readonly<Record<RiskComponentKey, number>> = Object.freeze({
  visitGap: 25,
  noShows: 15,
  responsiveness: 13,
  lastContact: 13,
  payments: 12,
  satisfaction: 8,
  cancellations: 7,
  treatment: 7,
});

/** A component must add at least this many points to be named as a factor. */
export const MIN_FACTOR_POINTS = 2.5;
export const MAX_FACTORS = 4;

export interface RiskContribution extends RiskComponent {
  /** weight × value, in score points. */
  points: number;
}

export interface RiskScore {
  /** 0-100, one decimal. */
  score: number;
  level: RiskLevel;
  /** Plain-language reasons, largest contribution first, at most 4. */
  factors: string[];
  /** Every component with its points, for explanations and debugging. */
  contributions: RiskContribution[];
}

export function riskLevel(score: number, settings: ScoringSettings = DEFAULT_SCORING_SETTINGS): RiskLevel {
  if (score >= settings.riskHighFrom) return 'high';
  if (score >= settings.riskMediumFrom) return 'medium';
  return 'low';
}

export function riskScore(
  features: PatientFeatures,
  now: number,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): RiskScore {
  const components: RiskComponent[] = [
    visitGap(features, now, settings),
    noShows(features),
    cancellations(features),
    responsiveness(features),
    payments(features),
    lastContact(features, now, settings),
    satisfaction(features),
    treatment(features),
  ];
  // Spelled out rather than `{ ...c, points }`: this runs eight times per patient, a million patients a night.
  const contributions: RiskContribution[] = components.map((c) => ({ key: c.key, value: c.value, fact: c.fact, points: RISK_WEIGHTS[c.key] * c.value }));
  const total = contributions.reduce((sum, c) => sum + c.points, 0);
  const score = Number.isFinite(total) ? Math.round(Math.min(100, Math.max(0, total)) * 10) / 10 : 0;
  const factors = contributions
    .filter((c) => c.fact !== null && c.points >= MIN_FACTOR_POINTS)
    .sort((x, y) => y.points - x.points)
    .slice(0, MAX_FACTORS)
    .map((c) => c.fact as string);
  return { score, level: riskLevel(score, settings), factors, contributions };
}
