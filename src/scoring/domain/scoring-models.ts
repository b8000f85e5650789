/**
 * How a patient's features map onto the two probabilistic models, and the organization-level fit.
 *
 * BG/NBD (repeat visits): x = completedVisits - 1 (visits after the first), t_x = lastVisitAt - firstVisitAt and
 * T = now - firstVisitAt, both in model time units of settings.modelTimeUnitDays (default: weeks).
 * Gamma-Gamma (value per visit): x = completedVisits, z̄ = visitValueCents / completedVisits, patients with at least
 * one completed visit and a positive mean value.
 *
 * Large organizations are fitted on a deterministic sample of at most settings.fitSampleSize (20,000) patients
 * chosen by a seeded hash of the patient id (fit-sample.ts): the estimates of four (three) parameters are already
 * precise at that size, and the fit stays in the seconds however large the organization is.
 */
import { fitBgNbd, type BgNbdFit, type BgNbdParams, type RepeatHistory } from 'src/scoring/domain/bg-nbd';
import { deterministicSample } from 'src/scoring/domain/fit-sample';
import { fitGammaGamma, type GammaGammaFit, type GammaGammaParams, type SpendHistory } from 'src/scoring/domain/gamma-gamma';
import { safeCount, safeDate, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { DEFAULT_SCORING_SETTINGS, type ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { DAY_MS } from 'src/common/time/calendar';

export interface ScoringModels {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

export interface OrganizationModelFit {
  bgnbd: BgNbdFit;
  gammaGamma: GammaGammaFit;
  /** Patients in the fit sample (with at least one visit). */
  sampleSize: number;
}

/** Minimum number of patients with a visit before the models are fitted; below it callers use the fallbacks. */
export const MIN_PATIENTS_FOR_FIT = 50;

/**
 * The BG/NBD search is given up once a parameter passes this: the maximum is then at infinity (no spread in the
 * data), and the recompute rejects any parameter above 1e4 anyway (`plausibleFit` in src/scoring/recompute.ts).
 */
export const BG_NBD_ABANDON_ABOVE = 1e6;

/** (x, t_x, T) of a patient with at least one completed visit before `now`, else null. */
export function repeatHistory(
  features: PatientFeatures,
  now: number,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): RepeatHistory | null {
  const first = safeDate(features.firstVisitAt);
  const last = safeDate(features.lastVisitAt);
  const visits = Math.round(safeCount(features.completedVisits));
  if (first === null || last === null || visits < 1 || first >= now) return null;
  const unitMs = settings.modelTimeUnitDays * DAY_MS;
  const T = (now - first) / unitMs;
  const x = visits - 1;
  const tx = x === 0 ? 0 : Math.min(T, Math.max(0, (last - first) / unitMs));
  return { x, tx, T };
}

/** (x, z̄) of a patient with a completed visit and positive visit value, else null. */
export function spendHistory(features: PatientFeatures): SpendHistory | null {
  const visits = Math.round(safeCount(features.completedVisits));
  const value = safeCount(features.visitValueCents);
  if (visits < 1 || value <= 0) return null;
  return { x: visits, zbar: value / visits };
}

/**
 * Fits both models on an organization's patients (deterministic sample, see above). Returns null when fewer than
 * MIN_PATIENTS_FOR_FIT patients have a visit, or fewer than that have a visit value.
 */
/** A patient as the model fit sees them (only the visit fields of the features are read). */
export interface FitRow {
  id: string;
  features: PatientFeatures;
}

export function fitOrganizationModels(
  patients: readonly FitRow[],
  now: number,
  settings: ScoringSettings = DEFAULT_SCORING_SETTINGS,
): OrganizationModelFit | null {
  // In id order: the likelihood is a sum over the sample, and floating-point sums depend on their order, so the fit
  // would otherwise change (in the last digits) with the order the rows were read in (a features chunk, a sample).
  const withVisits = patients
    .filter((p) => repeatHistory(p.features, now, settings) !== null)
    .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  const sample = deterministicSample(withVisits, (p) => p.id, settings.fitSampleSize, settings.fitSampleSeed);
  const repeats = sample.map((p) => repeatHistory(p.features, now, settings)).filter((h): h is RepeatHistory => h !== null);
  const spends = sample.map((p) => spendHistory(p.features)).filter((h): h is SpendHistory => h !== null);
  if (repeats.length < MIN_PATIENTS_FOR_FIT || spends.length < MIN_PATIENTS_FOR_FIT) return null;
  return { bgnbd: fitBgNbd(repeats, { maxParameter: BG_NBD_ABANDON_ABOVE }), gammaGamma: fitGammaGamma(spends), sampleSize: sample.length };
}

/** Customer-lifetime-value models whose fitted parameters are stored in `model_fits`. */
export const ModelKind = {
  BgNbd: 'bgnbd',
  GammaGamma: 'gamma_gamma',
} as const;
export type ModelKind = (typeof ModelKind)[keyof typeof ModelKind];
