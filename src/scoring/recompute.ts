import { Client } from 'pg';
import {
  fitOrganizationModels,
  type OrganizationModelFit,
  type ScoringModels,
  type ScoringSettings,
} from 'src/scoring/domain';
import { ModelKind } from 'src/scoring/entities/scoring.enums';
import { FeatureRow, keptFeaturesKey, localDate, PatientSelector } from 'src/scoring/features.query';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { PatientScores, scorePatient } from 'src/scoring/patient-scores';
import { MetricsRebuild, type MetricsWriteMode, REBUILD_MIN_PATIENTS, type RebuildHooks } from 'src/scoring/metrics-rebuild';
import { FitRow, ScoringOrganization, ScoringRepository } from 'src/scoring/scoring.repository';
import { pgRunner, SqlRunner } from 'src/scoring/sql-runner';

/** Patients per chunk of an organization-wide recompute (one features query and one write each). */
export const DEFAULT_CHUNK_SIZE = 50_000;

/** Chunks a connection reads ahead while the models are still being fitted. */
const MAX_CHUNKS_READ_AHEAD = 3;

export interface OrganizationContext {
  organization: ScoringOrganization;
  settings: ScoringSettings;
  /** Null: too little history to fit (the domain's fallbacks apply). */
  models: ScoringModels | null;
}

export interface RecomputeResult {
  organizationId: string;
  patients: number;
  /** Fit durations and the time the scoring took, in milliseconds. */
  fitMs: number;
  totalMs: number;
  fitted: boolean;
  /** Where the time went, in milliseconds (organization-wide runs; reads overlap scoring and writes). */
  phases?: RecomputePhases;
  /** Organization-wide runs: patients whose kept features were rolled forward (the others were read afresh). */
  featuresKept?: number;
}

/**
 * A chunk is read afresh as a whole (its id range) rather than patient by patient (their ids) when more than this
 * share of its patients have no usable kept features: the first run, a run after a settings change.
 */
const FRESH_RANGE_SHARE = 0.5;

export interface RecomputePhases {
  /** Features reads of the chunks, summed (on the reader's connection, alongside the scoring and writes). */
  readMs: number;
  /** Time the scoring loop waited for a chunk's read to finish. */
  waitMs: number;
  /** Scoring in Node, summed over the chunks. */
  scoreMs: number;
  /**
   * Writes (COPY and the upsert, with their commits), summed over the chunks; when rebuilding, the chunks' COPY into
   * the fresh table plus its VACUUM, index builds, keys and swap (`rebuildMs`).
   */
  writeMs: number;
  /** Rebuild and swap only: the fresh table's VACUUM, indexes, keys and the swap (wall clock, both connections). */
  rebuildMs?: number;
  /** Rebuild and swap only: patients whose row the request path wrote during the run, taken over by the swap. */
  takenOver?: number;
  /** The closing ANALYZE (or VACUUM (ANALYZE), with `vacuum: true`) of the scoring tables. */
  vacuumMs: number;
}

export type ProgressCallback = (done: number, total: number) => void;

/**
 * A fit the scores can rely on: every parameter finite and inside wide bounds. Data without a real spread (every
 * patient visiting on the same rhythm) can drive the likelihood maximum to infinity; the optimizer then stops at
 * enormous values (r, α, a, b ~ 1e4 to 1e10) that mean nothing and make the BG/NBD forecast's series crawl.
 * Such a fit counts as "too little data": the domain's fallbacks apply.
 */
export function plausibleFit(fit: OrganizationModelFit): boolean {
  const inside = (v: number, max: number): boolean => Number.isFinite(v) && v >= 1e-4 && v <= max;
  const { bgnbd: b, gammaGamma: g } = fit;
  return [b.r, b.alpha, b.a, b.b, g.p, g.q].every((v) => inside(v, 1e4)) && inside(g.v, 1e9);
}

/**
 * Fits BG/NBD and Gamma-Gamma on `rows` (the domain samples at most `fitSampleSize` of them) and stores both fits.
 * Returns null when the organization has too little history or the fit is not plausible (the domain's fallbacks
 * apply); the attempt is stored all the same, with `accepted` false (parameters, when there were any, kept for
 * analysts), so that the request path does not try again on every load of the organization's context.
 */
export async function fitAndStoreModels(
  repo: ScoringRepository,
  organizationId: string,
  rows: readonly FitRow[],
  settings: ScoringSettings,
  now: Date,
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
  const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
  const stored = { sampleSize: fit?.sampleSize ?? rows.length, fittedAt: now, durationMs, accepted };
  const bgnbd = fit ? { r: fit.bgnbd.r, alpha: fit.bgnbd.alpha, a: fit.bgnbd.a, b: fit.bgnbd.b } : null;
  const gammaGamma = fit ? { p: fit.gammaGamma.p, q: fit.gammaGamma.q, v: fit.gammaGamma.v } : null;
  // JSON has no Infinity or NaN: a parameter that is not finite is left out of the stored params.
  const finiteParams = (params: Record<string, number> | null): Record<string, number> =>
    Object.fromEntries(Object.entries(params ?? {}).filter(([, v]) => Number.isFinite(v)));
  await repo.insertFit(organizationId, {
    model: ModelKind.BgNbd,
    params: finiteParams(bgnbd),
    logLikelihood: fit ? finite(fit.bgnbd.logLikelihood) : null,
    ...stored,
  });
  await repo.insertFit(organizationId, {
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
  repo: ScoringRepository,
  organization: ScoringOrganization,
  settings: ScoringSettings,
  now: Date,
  /** The organization's live patients, when the caller has counted them. */
  patients?: number,
): Promise<ScoringModels | null> {
  const total = patients ?? (await repo.countPatients(organization.id));
  const ids = await repo.samplePatientIds(organization.id, settings.fitSampleSize * 2, total, settings.fitSampleSeed);
  if (ids.length === 0) return null;
  return fitAndStoreModels(repo, organization.id, await repo.visitHistories(organization.id, ids, now), settings, now);
}

/**
 * How long the request path lets an attempt that was not accepted stand before it fits again (the nightly
 * organization-wide recompute refits every organization in any case). An accepted fit stands until the next one.
 */
export const REJECTED_FIT_RETRY_MS = 24 * 3_600_000;

/**
 * Organization, its settings, and its models: those of its latest fit attempt (null, the domain's fallbacks, when
 * that attempt was not accepted); fitted now when it has none, or when its latest attempt was not accepted and is
 * older than REJECTED_FIT_RETRY_MS.
 */
export async function organizationContext(
  repo: ScoringRepository,
  organizationId: string,
  now: Date,
): Promise<OrganizationContext> {
  const organization = await repo.organization(organizationId);
  if (!organization) throw new Error(`Organization ${organizationId} not found`);
  const settings = organizationScoringSettings(organization.settings);
  const stored = await repo.latestFits(organizationId);
  const stands = stored !== null && (stored.models !== null || now.getTime() - stored.fittedAt.getTime() < REJECTED_FIT_RETRY_MS);
  const models = stands ? stored.models : await fitModelsOnSample(repo, organization, settings, now);
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
  const deletedAmong = selector.kind === 'ids' ? selector.ids : [];
  await repo.saveScores(organization.id, scoreRows(rows, now, context), now, localDate(now, organization.timezone), deletedAmong);
  if (selector.kind === 'range') await repo.deleteMetricsOfDeletedPatients(organization.id, selector);
  return rows.length;
}

/** Quarter chunks: the last two chunks' worth of patients is walked in chunks a quarter of the size. */
export const TAIL_SPLIT = 4;

/**
 * Chunk boundaries from `fine` boundaries (every `chunkSize / TAIL_SPLIT` patients, so `fine.length + 1` fine
 * chunks): full chunks of TAIL_SPLIT fine ones, then the last 2 to 3 chunks' worth left in fine chunks. Two
 * connections take chunks in turn, so the run ends when the later one finishes its last chunk: with full chunks to
 * the end, one connection idled for half a chunk on average (about 2.5 s at a million patients) while the other
 * finished; with quarter chunks at the end, an eighth. An organization of at most TAIL_SPLIT fine chunks (at most
 * `chunkSize` patients) stays one chunk: its models are then fitted on all of it, from that chunk's features.
 */
export function taperedBoundaries(fine: readonly string[]): string[] {
  const chunks = fine.length + 1;
  if (chunks <= TAIL_SPLIT) return [];
  const head = Math.floor(Math.max(0, chunks - 2 * TAIL_SPLIT) / TAIL_SPLIT) * TAIL_SPLIT; // fine chunks in full chunks
  // fine[i] is where fine chunk i + 1 begins.
  return fine.filter((_, i) => i + 1 >= head || (i + 1) % TAIL_SPLIT === 0);
}

/** Consecutive [from, to) id ranges starting at each boundary (null = open end); one open range without any. */
export function idRanges(boundaries: readonly string[]): { from: string | null; to: string | null }[] {
  const starts = [null, ...boundaries];
  return starts.map((from, i) => ({ from, to: i < boundaries.length ? boundaries[i] : null }));
}

/**
 * Every recompute rewrites each metrics row, leaving a dead version behind. A VACUUM removes them and their index
 * entries. It is not what lets the next recompute update rows in place (HOT, no index writes when no indexed column
 * changed): the update prunes a page's dead versions itself when it finds the page short of room (fillfactor 50),
 * and measured on a 200,000-patient clinic over three days, runs without the VACUUM made as many HOT updates (54 %)
 * in as much heap (171 MB) as runs with it. What it saves is index growth (dead entries of the rows whose indexed
 * columns moved: 261 → 271 MB after three days without it) and, above all for the read path, setting the visibility
 * map: the update of nearly every row clears it, and until a VACUUM sets it again every index-only scan of the list
 * (the page ids, the deep OFFSET pages, the counts) visits the heap. Measured on the million-patient clinic after a
 * next-day run without it: offset=900000 pages 200-250 ms; after the VACUUM (12.6 s) 42-62 ms. So an organization's
 * run ends with it by default (`vacuum` undefined or true); the nightly job runs it once after all organizations
 * (`vacuum: false` per organization); `vacuum: 'analyze'` (`npm run recompute -- --analyze-only`) only analyzes,
 * for a server whose autovacuum will follow.
 */
const SCORING_TABLES = ['patient_metrics', 'risk_score_history', 'patient_features'];

export async function vacuumScoringTables(client: Client, tables: readonly string[] = SCORING_TABLES): Promise<void> {
  await client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
}

/** Fresh statistics for the read path's plans after an organization's run (a sample: well under a second). */
export async function analyzeScoringTables(client: Client, tables: readonly string[] = SCORING_TABLES): Promise<void> {
  await client.query(`ANALYZE ${tables.join(', ')}`);
}

/** The source tables the features query reads. */
const SOURCE_TABLES = ['patients', 'appointments', 'communications', 'payments', 'survey_responses', 'referrals', 'treatment_plans'];

/** ANALYZE source tables that have never been analyzed (a fresh bulk load): without statistics plans go wrong. */
async function analyzeIfNeverAnalyzed(client: Client): Promise<void> {
  const { rows } = await client.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables
      WHERE relname = ANY($1::text[]) AND last_analyze IS NULL AND last_autoanalyze IS NULL`,
    [SOURCE_TABLES],
  );
  for (const { relname } of rows) await client.query(`ANALYZE ${client.escapeIdentifier(relname)}`);
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
 * Recomputes every patient of an organization over two dedicated connections to `url` (as the connecting user).
 * It walks the organization in id-range chunks of `chunkSize` patients (boundaries from one walk of the id index).
 * Both connections work the same way, each taking the next chunk in turn: read its features (one statement), score
 * it in Node, write it (COPY into a temporary table, then one statement: UPDATE of the existing metrics rows, INSERT
 * of missing ones, history rows for the scores that moved at least `riskHistoryStep`); each chunk commits on its
 * own. So the database always has two statements to run, one per core, whatever their mix: with one reader and one
 * writer, the writes (the longer half) set the pace and the reader idled. Before the first write, one connection
 * refits the CLV models (on the whole organization when it is one chunk, else on a random sample:
 * fitModelsOnSample) and reads the referred patients' revenue for the whole organization (one pass over its
 * payments; the chunks' features leave it out) while the other reads the first chunk. Ends with a VACUUM (ANALYZE) of
 * the scoring tables (`vacuum` 'analyze': an ANALYZE; false: nothing; see vacuumScoringTables). Usable without Nest: the CLI, the nightly job and the demo seed call it.
 * `phases` in the result says where the time went (docs/scoring.md, "Organization-wide recompute").
 */
export async function recomputeOrganizationWithUrl(
  url: string,
  organizationId: string,
  now: Date,
  options: {
    onProgress?: ProgressCallback;
    chunkSize?: number;
    refit?: boolean;
    vacuum?: boolean | 'analyze';
    /** false: read every patient's features afresh, ignoring the kept ones (they are rewritten). Default true. */
    reuseFeatures?: boolean;
    /** 'auto' (default): rebuild and swap from REBUILD_MIN_PATIENTS live patients (src/scoring/metrics-rebuild.ts). */
    write?: MetricsWriteMode;
    rebuildHooks?: RebuildHooks;
  } = {},
): Promise<RecomputeResult> {
  const started = Date.now();
  const connections = await Promise.all([connect(url, 'patient-journey-recompute'), connect(url, 'patient-journey-recompute')]);
  let rebuild: MetricsRebuild | null = null;
  try {
    // Every connection reads and writes. The reads' settings are per transaction (SET LOCAL in readChunk): a chunk
    // is tens of thousands of patients, so hash and merge joins; nested loops only appear when statistics are
    // missing or stale (right after a bulk load), and then rescan an aggregate once per patient. No parallel
    // workers: the other connection keeps the other core busy.
    for (const c of connections) await c.query(`SET jit = off; SET synchronous_commit = off; SET work_mem = '64MB'; SET temp_buffers = '64MB'`);
    const [first, second] = connections;
    // One organization-wide run per organization at a time (the nightly job, a CLI run, the demo seed, in any
    // process): a second waits for the first to end (the lock goes with the first's connection). Two at once would
    // share the rebuild's fresh table and the kept features' rows.
    await first.query(`SELECT pg_advisory_lock(hashtextextended('recompute:' || $1, 0))`, [organizationId]);
    await analyzeIfNeverAnalyzed(first);
    const firstRepo = new ScoringRepository(pgRunner(first));
    const secondRepo = new ScoringRepository(pgRunner(second));
    const organization = await firstRepo.organization(organizationId);
    if (!organization) throw new Error(`Organization ${organizationId} not found`);
    const settings = organizationScoringSettings(organization.settings);
    // The referred patients' revenue for the whole organization at once (the chunks' features leave it out), on the
    // second connection while the first walks the id index for the chunk boundaries.
    const referredNet = inTransaction(second, organizationId, () => secondRepo.referredNetRevenue(organizationId, now));
    referredNet.catch(() => undefined); // awaited below and by the workers
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const boundaries = await firstRepo.chunkBoundaries(organizationId, Math.max(1, Math.floor(chunkSize / TAIL_SPLIT)));
    const ranges = idRanges(taperedBoundaries(boundaries.ids));
    const total = boundaries.patients;
    const today = localDate(now, organization.timezone);
    const phases: RecomputePhases = { readMs: 0, waitMs: 0, scoreMs: 0, writeMs: 0, vacuumMs: 0 };
    const keep = { settingsKey: keptFeaturesKey(settings) };
    // Nothing kept under these settings (the first run, a settings change): every chunk is read whole, without first
    // looking up kept rows that are not there.
    const reuse = options.reuseFeatures !== false && (await firstRepo.hasKeptFeatures(organizationId, keep.settingsKey));
    let featuresKept = 0;
    const write = options.write ?? 'auto';
    // Before the first chunk is read: from here on the request path's writes to the live partition are logged.
    if (write === 'rebuild' || (write === 'auto' && total >= REBUILD_MIN_PATIENTS)) rebuild = await MetricsRebuild.start(first, organizationId);
    // A chunk's features: the kept ones rolled forward, and the others read afresh (and kept) in the same
    // transaction; with reuseFeatures false, nothing kept, or most of the chunk without, the whole range afresh.
    const readChunk = async (client: Client, i: number): Promise<FeatureRow[]> => {
      const t = Date.now();
      const rows = await inTransaction(client, organizationId, async () => {
        await client.query(`SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0`);
        const repo = new ScoringRepository(pgRunner(client));
        const range = { kind: 'range' as const, ...ranges[i] };
        const zone = organization.timezone;
        if (reuse) {
          const kept = await repo.keptFeatures(organizationId, range, now, settings, zone);
          if (kept.unkept.length <= FRESH_RANGE_SHARE * (kept.rows.length + kept.unkept.length)) {
            featuresKept += kept.rows.length;
            if (kept.unkept.length === 0) return kept.rows;
            // A few thousand ids out of the organization's rows: index scans of each source table (the planner
            // estimated a sequential scan of the smaller ones cheaper: 110-140 ms against 10-30 ms per chunk).
            await client.query(`SET LOCAL enable_seqscan = off`);
            const fresh = await repo.features(organizationId, { kind: 'ids', ids: kept.unkept }, now, settings, zone, {
              referredNet: false,
              hasMetrics: true,
              keep,
            });
            return kept.rows.concat(fresh);
          }
        }
        return repo.features(organizationId, range, now, settings, zone, { referredNet: false, keep });
      });
      phases.readMs += Date.now() - t;
      return rows;
    };
    options.onProgress?.(0, total);
    // The models, after the referred revenue, on the second connection: the stored ones (refit false); else fitted
    // on the whole organization when it is one chunk (from that chunk's features, below), or on a random sample of it
    // (fitModelsOnSample). A chunk is a range of ids, and ids may be time-ordered: the first chunk would be the
    // oldest patients, not a sample. Meanwhile the first connection reads chunks ahead.
    const fitStarted = Date.now();
    const sampled: Promise<ScoringModels | null> | null =
      options.refit === false
        ? referredNet.then(() => secondRepo.latestFits(organizationId)).then((f) => f?.models ?? null)
        : ranges.length > 1
          ? referredNet.then(() => inTransaction(second, organizationId, () => fitModelsOnSample(secondRepo, organization, settings, now, total)))
          : null;
    let contextPromise: Promise<OrganizationContext> | null = sampled
      ? sampled.then((models) => ({ organization, settings, models }))
      : null;
    contextPromise?.catch(() => undefined); // awaited by the workers
    let fitMs = 0;
    let done = 0;
    let nextChunk = 0;
    let failed = false;
    // Whether the models and the referred revenue are in: until then a connection reads ahead instead of waiting.
    let modelsReady = false;
    void Promise.all([contextPromise, referredNet]).then(() => (modelsReady = true), () => undefined);
    const work = async (client: Client, beforeFirst: Promise<unknown>): Promise<void> => {
      await beforeFirst;
      const repo = new ScoringRepository(pgRunner(client));
      const held: FeatureRow[][] = [];
      while (!failed && nextChunk < ranges.length) {
        const i = nextChunk++;
        held.push(await readChunk(client, i));
        // While the models are being fitted and the referred revenue read (on the other connection), read ahead
        // instead of waiting: at a million patients the two outlast a chunk's read.
        if (contextPromise !== null && !modelsReady && held.length < MAX_CHUNKS_READ_AHEAD && nextChunk < ranges.length) continue;
        for (const rows of held.splice(0)) {
          let t = Date.now();
          const referred = await referredNet;
          for (const row of rows) row.referredNetRevenueCents = referred.get(row.patientId) ?? 0;
          // One chunk (no sample): the models are fitted on its features, on this connection.
          contextPromise ??= inTransaction(client, organizationId, () =>
            fitAndStoreModels(repo, organizationId, rows.map((features) => ({ id: features.patientId, features })), settings, now),
          ).then((models) => ({ organization, settings, models }));
          const context = await contextPromise;
          if (fitMs === 0) fitMs = Date.now() - fitStarted;
          phases.waitMs += Date.now() - t;
          t = Date.now();
          const scores = scoreRows(rows, now, context);
          phases.scoreMs += Date.now() - t;
          t = Date.now();
          await inTransaction(client, organizationId, () =>
            rebuild ? rebuild.writeChunk(client, scores, now, today) : repo.saveScores(organizationId, scores, now, today),
          );
          phases.writeMs += Date.now() - t;
          done += rows.length;
          options.onProgress?.(done, total);
        }
      }
    };
    // The second connection starts on chunks once the referred revenue and the models are read.
    const workers = [work(first, Promise.resolve()), work(second, Promise.all([referredNet, sampled]))];
    const outcomes = await Promise.allSettled(
      workers.map((w) =>
        w.catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
    if (rebuild) {
      const t = Date.now();
      phases.takenOver = await rebuild.finish([first, second], options.rebuildHooks);
      phases.rebuildMs = Date.now() - t;
      phases.writeMs += phases.rebuildMs;
      rebuild = null;
    } else {
      await inTransaction(first, organizationId, () =>
        firstRepo.deleteMetricsOfDeletedPatients(organizationId, { kind: 'range', from: null, to: null }),
      );
    }
    const vacuumStarted = Date.now();
    // A rebuilt partition is vacuumed and analyzed already: only the history and the kept features are left.
    const tables = phases.rebuildMs === undefined ? undefined : ['risk_score_history', 'patient_features'];
    if (options.vacuum === undefined || options.vacuum === true) await vacuumScoringTables(first, tables);
    else if (options.vacuum === 'analyze') await analyzeScoringTables(first, tables);
    phases.vacuumMs = Date.now() - vacuumStarted;
    return {
      organizationId,
      patients: done,
      fitMs,
      totalMs: Date.now() - started,
      fitted: contextPromise !== null && (await contextPromise).models !== null,
      phases,
      featuresKept,
    };
  } catch (err) {
    await rebuild?.abandon(connections[0]);
    throw err;
  } finally {
    await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
  }
}
