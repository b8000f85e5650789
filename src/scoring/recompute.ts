import { Client } from 'pg';
import { fitBgNbd, RepeatHistory } from 'src/scoring/domain/bg-nbd';
import { fitGammaGamma, SpendHistory } from 'src/scoring/domain/gamma-gamma';
import { MS_PER_DAY } from 'src/scoring/domain/patient-features';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { ModelKind } from 'src/scoring/entities/scoring.enums';
import { FeatureRow, localDate, PatientSelector } from 'src/scoring/features.query';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { PatientScores, scorePatient, ScoringModels } from 'src/scoring/patient-scores';
import { ScoringOrganization, ScoringRepository } from 'src/scoring/scoring.repository';
import { pgRunner, SqlRunner } from 'src/scoring/sql-runner';

/** Patients per chunk of an organization-wide recompute (one features query and one write each). */
export const DEFAULT_CHUNK_SIZE = 50_000;

/** Used when an organization has too little history to fit the models (see `fitModels`). */
export const DEFAULT_MODELS: Readonly<ScoringModels> = Object.freeze({
  // Weeks: a patient visits about every 8 weeks while active (r/α = 1/8) and drops out after a visit with
  // probability a/(a+b) = 1/6 on average.
  bgnbd: { r: 1, alpha: 8, a: 1, b: 5 },
  // Cents: mean value per visit p·v/(q-1) = 100.00.
  gammaGamma: { p: 6, q: 4, v: 5000 },
});

/** Fewer patients than these in the fit sample: the defaults are used (and stored, so they are not refit per call). */
export const MIN_FIT_PATIENTS = 50;
export const MIN_FIT_REPEATERS = 20;

export interface OrganizationContext {
  organization: ScoringOrganization;
  settings: ScoringSettings;
  models: ScoringModels;
}

export interface RecomputeResult {
  organizationId: string;
  patients: number;
  /** Fit durations and the time the scoring took, in milliseconds. */
  fitMs: number;
  totalMs: number;
  fitted: boolean;
}

export type ProgressCallback = (done: number, total: number) => void;

/** The BG/NBD and Gamma-Gamma inputs of a sample of patients (times in `modelTimeUnitDays`, rounded to days). */
export function modelInputs(
  rows: readonly FeatureRow[],
  now: number,
  settings: ScoringSettings,
): { repeat: RepeatHistory[]; spend: SpendHistory[] } {
  const unit = settings.modelTimeUnitDays * MS_PER_DAY;
  const days = (ms: number): number => Math.max(0, Math.floor(ms / MS_PER_DAY)) * (MS_PER_DAY / unit);
  const repeat: RepeatHistory[] = [];
  const spend: SpendHistory[] = [];
  for (const row of rows) {
    if (row.firstVisitAt === null || row.lastVisitAt === null || !(row.completedVisits >= 1)) continue;
    const x = row.completedVisits - 1;
    const T = days(now - row.firstVisitAt);
    if (!(T > 0)) continue;
    repeat.push({ x, tx: Math.min(T, days(row.lastVisitAt - row.firstVisitAt)), T });
    const zbar = x > 0 ? (row.visitValueCents - row.firstVisitValueCents) / x : 0;
    if (x > 0 && zbar > 0) spend.push({ x, zbar });
  }
  return { repeat, spend };
}

/**
 * Fits BG/NBD and Gamma-Gamma on a seeded sample of the organization's patients and stores both fits. With too
 * little data (or a fit that does not converge to finite parameters) the defaults are stored instead, with a null
 * log-likelihood, so that they are visible and not refit on every single-patient recompute.
 */
export async function fitModels(
  repo: ScoringRepository,
  organization: ScoringOrganization,
  settings: ScoringSettings,
  now: Date,
): Promise<ScoringModels> {
  const started = Date.now();
  const total = await repo.countPatients(organization.id);
  const ids = await repo.samplePatientIds(organization.id, settings.fitSampleSize, total, settings.fitSampleSeed);
  const rows = ids.length
    ? await repo.features(organization.id, { kind: 'ids', ids }, now, settings, organization.timezone)
    : [];
  const { repeat, spend } = modelInputs(rows, now.getTime(), settings);
  const repeaters = repeat.filter((h) => h.x > 0).length;

  let bgnbd: ScoringModels['bgnbd'] = DEFAULT_MODELS.bgnbd;
  let bgLogLikelihood: number | null = null;
  const bgStarted = Date.now();
  if (repeat.length >= MIN_FIT_PATIENTS && repeaters >= MIN_FIT_REPEATERS) {
    try {
      const fit = fitBgNbd(repeat);
      if ([fit.r, fit.alpha, fit.a, fit.b, fit.logLikelihood].every(Number.isFinite)) {
        bgnbd = { r: fit.r, alpha: fit.alpha, a: fit.a, b: fit.b };
        bgLogLikelihood = fit.logLikelihood;
      }
    } catch {
      // Degenerate sample: keep the defaults.
    }
  }
  const bgMs = Date.now() - bgStarted;
  let gammaGamma: ScoringModels['gammaGamma'] = DEFAULT_MODELS.gammaGamma;
  let ggLogLikelihood: number | null = null;
  const ggStarted = Date.now();
  if (spend.length >= MIN_FIT_REPEATERS) {
    try {
      const fit = fitGammaGamma(spend);
      if ([fit.p, fit.q, fit.v, fit.logLikelihood].every(Number.isFinite)) {
        gammaGamma = { p: fit.p, q: fit.q, v: fit.v };
        ggLogLikelihood = fit.logLikelihood;
      }
    } catch {
      // Degenerate sample: keep the defaults.
    }
  }
  const ggMs = Date.now() - ggStarted;
  const sampleMs = bgStarted - started;
  await repo.insertFit(organization.id, {
    model: ModelKind.BgNbd,
    params: { ...bgnbd },
    logLikelihood: bgLogLikelihood,
    sampleSize: repeat.length,
    fittedAt: now,
    durationMs: sampleMs + bgMs,
  });
  await repo.insertFit(organization.id, {
    model: ModelKind.GammaGamma,
    params: { ...gammaGamma },
    logLikelihood: ggLogLikelihood,
    sampleSize: spend.length,
    fittedAt: now,
    durationMs: ggMs,
  });
  return { bgnbd, gammaGamma };
}

/** Organization, its settings, and its latest models (fitted now when it has none). */
export async function organizationContext(
  repo: ScoringRepository,
  organizationId: string,
  now: Date,
  options: { refit: boolean },
): Promise<OrganizationContext> {
  const organization = await repo.organization(organizationId);
  if (!organization) throw new Error(`Organization ${organizationId} not found`);
  const settings = organizationScoringSettings(organization.settings);
  const stored = options.refit ? null : await repo.latestFits(organizationId);
  const models = stored ? { bgnbd: stored.bgnbd, gammaGamma: stored.gammaGamma } : await fitModels(repo, organization, settings, now);
  return { organization, settings, models };
}

/** Scores the features rows (pure, in Node). */
export function scoreRows(rows: readonly FeatureRow[], now: Date, context: OrganizationContext): PatientScores[] {
  const at = now.getTime();
  return rows.map((row) => scorePatient(row, at, context.settings, context.models));
}

/**
 * Recomputes the selected patients with `db` (one features query, scoring, one write). The caller owns the
 * transaction: `TenantDb.run` on the request path.
 */
export async function recomputeSelection(
  db: SqlRunner,
  context: OrganizationContext,
  selector: PatientSelector,
  now: Date,
): Promise<number> {
  const repo = new ScoringRepository(db);
  const { organization, settings } = context;
  const rows = await repo.features(organization.id, selector, now, settings, organization.timezone);
  await repo.saveScores(organization.id, scoreRows(rows, now, context), now, localDate(now, organization.timezone));
  await repo.deleteMetricsOfDeletedPatients(organization.id, selector);
  return rows.length;
}

/** `count` equal slices of the uuid space as [from, to) bounds (null = open end). */
export function uuidRanges(count: number): { from: string | null; to: string | null }[] {
  const n = Math.max(1, Math.floor(count));
  const space = 1n << 128n;
  const bound = (i: number): string => {
    const hex = ((space * BigInt(i)) / BigInt(n)).toString(16).padStart(32, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return Array.from({ length: n }, (_, i) => ({ from: i === 0 ? null : bound(i), to: i === n - 1 ? null : bound(i + 1) }));
}

async function connect(url: string, applicationName: string): Promise<Client> {
  const client = new Client({ connectionString: url, options: '-c timezone=UTC', application_name: applicationName });
  await client.connect();
  return client;
}

async function inTransaction<T>(client: Client, organizationId: string, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('app.organization_id', $1, true)`, [organizationId]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Recomputes every patient of an organization over two dedicated connections to `url` (as the connecting user):
 * it refits the models on a sample, then walks the organization in uuid-range chunks of about `chunkSize`
 * patients, reading the next chunk's features on one connection while the current chunk is scored and written
 * (COPY into a temporary table, then one upsert) on the other. Each chunk commits on its own.
 * Usable without Nest: the CLI, the nightly job and the demo seed call it.
 */
export async function recomputeOrganizationWithUrl(
  url: string,
  organizationId: string,
  now: Date,
  options: { onProgress?: ProgressCallback; chunkSize?: number; refit?: boolean } = {},
): Promise<RecomputeResult> {
  const started = Date.now();
  const reader = await connect(url, 'patient-journey-recompute');
  const writer = await connect(url, 'patient-journey-recompute');
  try {
    await reader.query(`SET jit = off; SET work_mem = '64MB'`);
    await writer.query(`SET synchronous_commit = off; SET work_mem = '64MB'`);
    const readRepo = new ScoringRepository(pgRunner(reader));
    const writeRepo = new ScoringRepository(pgRunner(writer));
    const fitStarted = Date.now();
    const context = await inTransaction(writer, organizationId, () =>
      organizationContext(writeRepo, organizationId, now, { refit: options.refit ?? true }),
    );
    const fitMs = Date.now() - fitStarted;
    const { organization, settings } = context;
    const total = await readRepo.countPatients(organizationId);
    const ranges = uuidRanges(Math.ceil(total / (options.chunkSize ?? DEFAULT_CHUNK_SIZE)));
    const today = localDate(now, organization.timezone);
    const read = (i: number): Promise<FeatureRow[]> =>
      inTransaction(reader, organizationId, () =>
        readRepo.features(organizationId, { kind: 'range', ...ranges[i] }, now, settings, organization.timezone),
      );
    let done = 0;
    options.onProgress?.(0, total);
    let next = read(0);
    for (let i = 0; i < ranges.length; i++) {
      const rows = await next;
      if (i + 1 < ranges.length) {
        next = read(i + 1);
        next.catch(() => undefined); // awaited (and rethrown) on the next turn of the loop
      }
      const scores = scoreRows(rows, now, context);
      await inTransaction(writer, organizationId, () => writeRepo.saveScores(organizationId, scores, now, today));
      done += rows.length;
      options.onProgress?.(done, total);
    }
    await inTransaction(writer, organizationId, () =>
      writeRepo.deleteMetricsOfDeletedPatients(organizationId, { kind: 'range', from: null, to: null }),
    );
    return { organizationId, patients: done, fitMs, totalMs: Date.now() - started, fitted: true };
  } finally {
    await Promise.all([reader.end().catch(() => undefined), writer.end().catch(() => undefined)]);
  }
}
