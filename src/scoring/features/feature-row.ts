import type { PatientFeatures } from 'src/scoring/domain/patient-features';

/** Which patients of the organization a query covers (never a whole table: always inside one organization). */
export type PatientSelector =
  /** Patient ids in [from, to) (uuid order); null = unbounded on that side. Chunks of an organization-wide run. */
  | { kind: 'range'; from: string | null; to: string | null }
  /** These patient ids (ingestion batches, single patients, fit samples). */
  | { kind: 'ids'; ids: readonly string[] };

/** Extra per-patient values the recompute needs beside the features (not inputs of the scoring functions). */
export interface FeatureRowExtras {
  patientId: string;
  sortName: string;
  preferredChannel: string;
  /** Latest communication (either direction) or attended appointment, epoch ms; null when none. */
  lastContactAt: number | null;
  /** Risk score the patient had `riskTrendWindowDays` ago (latest snapshot on or before that day, else the
   * earliest snapshot since, before today); null when there is none. */
  previousRiskScore: number | null;
  /** Latest risk score recorded on or before today; null when there is none (see recordsRiskHistory). */
  lastRecordedRiskScore: number | null;
  /**
   * Whether the patient has a patient_metrics row (the organization-wide write updates it, else inserts one); null
   * for an `ids` selection (the request path upserts: planning the lookup, over a table with ten indexes, cost more
   * than it saves for a few patients).
   */
  hasMetrics: boolean | null;
}

export type FeatureRow = PatientFeatures & FeatureRowExtras;

/**
 * The features statement's columns, in the order it returns them. The organization-wide recompute reads the rows as
 * arrays (`rowMode: 'array'`) and builds each FeatureRow with `featureRowFromValues`: one object of a fixed shape,
 * instead of pg's per-row copy of a 45-key template filled in key by key (about a tenth of the recompute's Node CPU,
 * and much of its garbage).
 */
export const FEATURE_COLUMNS: readonly (keyof FeatureRow)[] = [
  'patientId',
  'sortName',
  'preferredChannel',
  'registeredAt',
  'marketingConsent',
  'appointmentReminders',
  'lastEngagementAt',
  'engagementsRecent',
  'engagementsPrior',
  'nextAppointmentAt',
  'firstVisitAt',
  'lastVisitAt',
  'completedVisits',
  'visitValueCents',
  'decayedVisits',
  'decayedNoShows',
  'decayedCancellations',
  'recentAppointments',
  'recentNoShows',
  'recentCancellations',
  'decayedOutreach',
  'decayedReplies',
  'avgReplyHours',
  'preferredChannelOutreach',
  'preferredChannelReplies',
  'lastContactAt',
  'netRevenueCents',
  'decayedFailedPayments',
  'overduePayments',
  'weightedSatisfaction',
  'complaints',
  'decayedComplaints',
  'referralsMade',
  'referredNetRevenueCents',
  'activePlanRemainingValueCents',
  'activePlanSessionsBehind',
  'abandonedPlans',
  'planSessionsDue',
  'planSessionsDone',
  'previousRiskScore',
  'lastRecordedRiskScore',
  'hasMetrics',
];

/** A FeatureRow from the statement's values in FEATURE_COLUMNS order (as pg's type parsers return them). */
export function featureRowFromValues(v: readonly unknown[]): FeatureRow {
  return {
    patientId: v[0] as string,
    sortName: v[1] as string,
    preferredChannel: v[2] as string,
    registeredAt: v[3] as number | null,
    marketingConsent: v[4] as boolean,
    appointmentReminders: v[5] as boolean,
    lastEngagementAt: v[6] as number | null,
    engagementsRecent: v[7] as number,
    engagementsPrior: v[8] as number,
    nextAppointmentAt: v[9] as number | null,
    firstVisitAt: v[10] as number | null,
    lastVisitAt: v[11] as number | null,
    completedVisits: v[12] as number,
    visitValueCents: v[13] as number,
    decayedVisits: v[14] as number,
    decayedNoShows: v[15] as number,
    decayedCancellations: v[16] as number,
    recentAppointments: v[17] as number,
    recentNoShows: v[18] as number,
    recentCancellations: v[19] as number,
    decayedOutreach: v[20] as number,
    decayedReplies: v[21] as number,
    avgReplyHours: v[22] as number | null,
    preferredChannelOutreach: v[23] as number,
    preferredChannelReplies: v[24] as number,
    lastContactAt: v[25] as number | null,
    netRevenueCents: v[26] as number,
    decayedFailedPayments: v[27] as number,
    overduePayments: v[28] as number,
    weightedSatisfaction: v[29] as number | null,
    complaints: v[30] as number,
    decayedComplaints: v[31] as number,
    referralsMade: v[32] as number,
    referredNetRevenueCents: v[33] as number,
    activePlanRemainingValueCents: v[34] as number,
    activePlanSessionsBehind: v[35] as number,
    abandonedPlans: v[36] as number,
    planSessionsDue: v[37] as number,
    planSessionsDone: v[38] as number,
    previousRiskScore: v[39] as number | null,
    lastRecordedRiskScore: v[40] as number | null,
    hasMetrics: v[41] as boolean | null,
  };
}
