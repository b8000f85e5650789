import { createHash } from 'node:crypto';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { OrganizationRow } from 'src/organizations/organizations.repository';
import {
  fitOrganizationModels,
  fitStands,
  type FitRow,
  type OrganizationModelFit,
  plausibleFit,
  type ScoringModels,
  type ScoringSettings,
} from 'src/scoring/domain';
import { ModelKind } from 'src/scoring/domain/scoring-models';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import type { ScoringRepositories } from 'src/scoring/scoring-repositories';

/** What scoring an organization's patients needs besides their features. */
export interface OrganizationContext {
  organization: OrganizationRow;
  settings: ScoringSettings;
  /** Null: too little history to fit (the domain's fallbacks apply). */
  models: ScoringModels | null;
}

/**
 * The scoring settings a fit was made under, as stored with it (`model_fits.settings_key`): a short hash of all of
 * them (the fit reads some, the scores read the models with others, e.g. the model time unit), so that a nightly run
 * that keeps recent models (nightlyRefitDue) refits after any settings change.
 */
export function scoringSettingsKey(settings: ScoringSettings): string {
  const sorted = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 22);
}

/** What one fit did (filled in by fitAndStoreModels and fitModelsOnSample when the caller passes one). */
export interface FitStats {
  /** Reading the fit's inputs (the sample's ids and visit histories), ms; 0 when fitted on rows already read. */
  inputMs: number;
  /** The two Nelder-Mead searches, ms. */
  optimizerMs: number;
  /** Nelder-Mead iterations, restarts included (null: no fit, too little history). */
  bgnbdIterations: number | null;
  gammaGammaIterations: number | null;
  /** Whether the fit was accepted (plausibleFit). */
  accepted: boolean;
  sampleSize: number;
}

/** One line of what a fit did, for the CLI and the benches. */
export function describeFit(f: FitStats): string {
  const iterations = f.bgnbdIterations === null ? 'no fit (too little history)' : `${f.bgnbdIterations} + ${f.gammaGammaIterations} iterations`;
  return `inputs ${(f.inputMs / 1000).toFixed(2)} s, optimizer ${(f.optimizerMs / 1000).toFixed(2)} s (${iterations}, ${f.sampleSize} patients, ${f.accepted ? 'accepted' : 'rejected'})`;
}

/**
 * The fit phase: fits BG/NBD and Gamma-Gamma on `rows` (the domain samples at most `fitSampleSize` of them) and
 * stores both fits. Returns null when the organization has too little history or the fit is not plausible
 * (fit-policy.ts; the domain's fallbacks apply); the attempt is stored all the same, with `accepted` false
 * (parameters, when there were any, kept for analysts), so that the request path does not try again on every load
 * of the organization's context.
 */
export async function fitAndStoreModels(
  repos: ScoringRepositories,
  db: TenantSql,
  rows: readonly FitRow[],
  settings: ScoringSettings,
  now: Date,
  stats?: FitStats,
): Promise<ScoringModels | null> {
  const started = Date.now();
  let fit: OrganizationModelFit | null;
  try {
    fit = fitOrganizationModels(rows, now.getTime(), settings);
  } catch {
    fit = null; // a degenerate sample: treated as too little data
  }
  const accepted = fit !== null && plausibleFit(fit);
  const durationMs = Date.now() - started;
  if (stats) {
    stats.optimizerMs = durationMs;
    stats.bgnbdIterations = fit?.bgnbd.iterations ?? null;
    stats.gammaGammaIterations = fit?.gammaGamma.iterations ?? null;
    stats.accepted = accepted;
    stats.sampleSize = fit?.sampleSize ?? rows.length;
  }
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  const stored = { sampleSize: fit?.sampleSize ?? rows.length, fittedAt: now, durationMs, accepted, settingsKey: scoringSettingsKey(settings) };
  const bgnbd = fit ? { r: fit.bgnbd.r, alpha: fit.bgnbd.alpha, a: fit.bgnbd.a, b: fit.bgnbd.b } : null;
  const gammaGamma = fit ? { p: fit.gammaGamma.p, q: fit.gammaGamma.q, v: fit.gammaGamma.v } : null;
  // JSON has no Infinity or NaN: a parameter that is not finite is left out of the stored params.
  const finiteParams = (params: Record<string, number> | null): Record<string, number> =>
    Object.fromEntries(Object.entries(params ?? {}).filter(([, v]) => Number.isFinite(v)));
  await repos.fits.insertFit(db, {
    model: ModelKind.BgNbd,
    params: finiteParams(bgnbd),
    logLikelihood: fit ? finite(fit.bgnbd.logLikelihood) : null,
    ...stored,
  });
  await repos.fits.insertFit(db, {
    model: ModelKind.GammaGamma,
    params: finiteParams(gammaGamma),
    logLikelihood: fit ? finite(fit.gammaGamma.logLikelihood) : null,
    ...stored,
  });
  return accepted && bgnbd && gammaGamma ? { bgnbd, gammaGamma } : null;
}

/**
 * The fit on a seeded random sample of about `fitSampleSize` patients (Bernoulli sampling in SQL, oversampled since
 * not every patient has visits), reading only their visits: the organization-wide recompute's fit when the
 * organization spans several chunks, and the request path's when an organization has no fit yet.
 */
export async function fitModelsOnSample(
  repos: ScoringRepositories,
  db: TenantSql,
  settings: ScoringSettings,
  now: Date,
  /** The organization's live patients, when the caller has counted them. */
  patients?: number,
  stats?: FitStats,
): Promise<ScoringModels | null> {
  const started = Date.now();
  const total = patients ?? (await repos.features.countPatients(db));
  const ids = await repos.features.samplePatientIds(db, settings.fitSampleSize * 2, total, settings.fitSampleSeed);
  if (ids.length === 0) return null;
  const rows = await repos.features.visitHistories(db, ids, now);
  if (stats) stats.inputMs = Date.now() - started;
  return fitAndStoreModels(repos, db, rows, settings, now, stats);
}

/**
 * The organization, its settings, and its models: those of its latest fit attempt (null, the domain's fallbacks,
 * when that attempt was not accepted), fitted now when no attempt stands (fit-policy.ts).
 */
export async function organizationContext(repos: ScoringRepositories, db: TenantSql, now: Date): Promise<OrganizationContext> {
  const organization = await repos.organizations.own(db);
  if (!organization) throw new Error(`Organization ${db.organizationId} not found`);
  const settings = organizationScoringSettings(organization.settings);
  const latest = await repos.fits.latestFits(db);
  const models = latest && fitStands(latest, now) ? latest.models : await fitModelsOnSample(repos, db, settings, now);
  return { organization, settings, models };
}
