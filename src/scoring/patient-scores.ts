import {
  avgSessionValue,
  classifyStatus,
  engagementScore,
  lifetimeValue,
  recordsRiskHistory,
  riskScore,
  riskTrend,
  successProbability,
  totalSessions,
  type ScoringModels,
  type ScoringSettings,
} from 'src/scoring/domain';
import type { PatientStatus } from 'src/scoring/domain/patient-status';
import type { RiskLevel } from 'src/scoring/domain/risk-score';
import type { RiskTrend } from 'src/scoring/domain/risk-trend';
import type { FeatureRow } from 'src/scoring/features/feature-row';

/** One entry of `patient_metrics.risk_factors`: the sentence a receptionist reads, and its weight. */
export interface StoredRiskFactor {
  /** Stable machine code of the factor (e.g. `overdue_visit`). */
  code: string;
  /** Short sentence naming the facts ("No visit for 142 days; usually every 30 days"). */
  text: string;
  /** Points this factor adds to the risk score. */
  points: number;
}

/** What the recompute writes to `patient_metrics` for one patient (dates epoch ms, money integer cents). */
export interface PatientScores {
  patientId: string;
  sortName: string;
  status: PatientStatus;
  riskScore: number;
  riskLevel: RiskLevel;
  riskFactors: StoredRiskFactor[];
  riskTrend: RiskTrend;
  engagementScore: number;
  ltvCents: number;
  historicalRevenueCents: number;
  futureValueCents: number;
  referralValueCents: number;
  totalSessions: number;
  avgSessionValueCents: number;
  /** First attended appointment ever (engagement overview: new vs returning patients). */
  firstVisitAt: number | null;
  lastAppointmentAt: number | null;
  nextAppointmentAt: number | null;
  lastContactAt: number | null;
  successProbability: number;
  /** Not stored: today's risk score goes into risk_score_history (recordsRiskHistory). */
  recordHistory: boolean;
  /** Not stored: the patient had a patient_metrics row when the features were read (null: not looked up). */
  hasMetrics: boolean | null;
}

const INT_MAX = 2_147_483_647;

/** Integer cents that fit the integer columns; never NaN. */
function cents(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.max(-INT_MAX, Math.min(INT_MAX, Math.round(value)));
}

function finite(value: number, fallback = 0): number {
  return Number.isFinite(value) ? value : fallback;
}

/**
 * Scores one patient from their features row with the pure domain functions (`src/scoring/domain`). Never throws
 * on odd data: the domain functions keep every value finite and in range; this layer only rounds money.
 * `models` null: the organization has too little history for a fit (the domain then falls back to simple rules).
 */
export function scorePatient(
  row: FeatureRow,
  now: number,
  settings: ScoringSettings,
  models: ScoringModels | null,
): PatientScores {
  const risk = riskScore(row, now, settings);
  const ltv = lifetimeValue(row, now, models, settings);
  return {
    patientId: row.patientId,
    sortName: row.sortName,
    status: classifyStatus(row, now, settings),
    riskScore: risk.score,
    riskLevel: risk.level,
    riskFactors: risk.factors.map((text) => {
      const source = risk.contributions.find((c) => c.fact === text);
      return { code: source?.key ?? 'other', text, points: Math.round(finite(source?.points ?? 0) * 10) / 10 };
    }),
    riskTrend: riskTrend(risk.score, row.previousRiskScore, settings),
    engagementScore: engagementScore(row, now, settings),
    ltvCents: cents(ltv.totalCents),
    historicalRevenueCents: cents(ltv.historicalCents),
    futureValueCents: cents(ltv.predictedCents),
    referralValueCents: cents(ltv.referralCents),
    totalSessions: totalSessions(row),
    avgSessionValueCents: cents(avgSessionValue(row)),
    firstVisitAt: row.firstVisitAt,
    lastAppointmentAt: row.lastVisitAt,
    nextAppointmentAt: row.nextAppointmentAt,
    lastContactAt: row.lastContactAt,
    successProbability: successProbability(row, now, models, settings),
    recordHistory: recordsRiskHistory(risk.score, row.lastRecordedRiskScore, settings),
    hasMetrics: row.hasMetrics,
  };
}
