import type { BgNbdParams } from 'src/scoring/domain/bg-nbd';
import type { GammaGammaParams } from 'src/scoring/domain/gamma-gamma';
import { classifyStatus } from 'src/scoring/domain/patient-status';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import type { PatientStatus, RiskLevel, RiskTrend } from 'src/scoring/entities/scoring.enums';
import type { FeatureRow } from 'src/scoring/features.query';

/** The fitted CLV models an organization's patients are scored with. */
export interface ScoringModels {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

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
  lastAppointmentAt: number | null;
  nextAppointmentAt: number | null;
  lastContactAt: number | null;
  successProbability: number;
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
 * Scores one patient from their features row with the pure domain functions. Never throws on odd data: every
 * number written is finite (the domain functions guarantee their ranges; this layer only rounds money).
 */
export function scorePatient(row: FeatureRow, now: number, settings: ScoringSettings, models: ScoringModels): PatientScores {
  const status = classifyStatus(row, now, settings);
  // PROVISIONAL until the domain's risk, engagement, LTV and probability functions land.
  const riskScore = 0;
  const riskLevel: RiskLevel = riskScore >= settings.riskHighFrom ? 'high' : riskScore >= settings.riskMediumFrom ? 'medium' : 'low';
  const trendDelta = row.previousRiskScore === null ? 0 : riskScore - row.previousRiskScore;
  const riskTrend: RiskTrend =
    trendDelta >= settings.riskTrendThreshold ? 'declining' : trendDelta <= -settings.riskTrendThreshold ? 'improving' : 'stable';
  void models;
  const historical = row.netRevenueCents;
  const totalSessions = Math.max(0, Math.round(finite(row.completedVisits)));
  return {
    patientId: row.patientId,
    sortName: row.sortName,
    status,
    riskScore,
    riskLevel,
    riskFactors: [],
    riskTrend,
    engagementScore: 0,
    ltvCents: cents(historical),
    historicalRevenueCents: cents(historical),
    futureValueCents: 0,
    referralValueCents: 0,
    totalSessions,
    avgSessionValueCents: totalSessions > 0 ? cents(row.visitValueCents / totalSessions) : 0,
    lastAppointmentAt: row.lastVisitAt,
    nextAppointmentAt: row.nextAppointmentAt,
    lastContactAt: row.lastContactAt,
    successProbability: 0,
  };
}
