import { Logger } from '@nestjs/common';
import { localDate } from 'src/common/time/calendar';
import type { Database } from 'src/database/database';
import type { OwnerConnection } from 'src/database/owner-connection';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import type { ScoringModels } from 'src/scoring/domain';
import type { FeatureRow } from 'src/scoring/features/feature-row';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { DEFAULT_CHUNK_SIZE, idRanges, TAIL_SPLIT, taperedBoundaries } from 'src/scoring/recompute/chunking';
import {
  analyzeScoringTables,
  analyzeTables,
  neverAnalyzedSources,
  analyzeUnseenTables,
  ORGANIZATION_TABLES,
  RUN_TABLES,
  vacuumOwnPartition,
  vacuumScoringTables,
} from 'src/scoring/recompute/maintenance';
import {
  MetricsRebuild,
  type MetricsWriteMode,
  REBUILD_MIN_PATIENTS,
  type RebuildHooks,
} from 'src/scoring/recompute/metrics-partition-swap';
import {
  fitAndStoreModels,
  fitModelsOnSample,
  type FitStats,
  scoringSettingsKey,
  type OrganizationContext,
} from 'src/scoring/recompute/organization-context';
import { freshConnections, type RecomputeConnectionSource } from 'src/scoring/recompute/recompute-connections';
import { nightlyRefitDue } from 'src/scoring/domain/fit-policy';
import { percentileDisc } from 'src/scoring/domain/percentile';
import { scoreRows } from 'src/scoring/recompute/patient-recompute';
import { readChunk } from 'src/scoring/recompute/read-chunk';
import { readRunSetup, RECOMPUTE_LOCK_KEY } from 'src/scoring/recompute/recompute-setup';
import { DELETE_METRICS_OF_DELETED_SQL } from 'src/scoring/scores/scores.repository';
import { inlineParams } from 'src/database/tenant/sql-literal';
import type { ScoringRepositories } from 'src/scoring/scoring-repositories';
import type { StoredFits } from 'src/scoring/model-fits.repository';

/** The databases whose source tables this process found or made analyzed (neverAnalyzedSources): not asked again. */
const sourcesAnalyzed = new WeakSet<Database>();

/**
 * From this many live patients a run first asks whether the statistics know the organization (organizationUnseenTables):
 * a 300-patient clinic's night took 343 ms with its tables unknown to them and 317 ms known.
 */
const UNSEEN_CHECK_MIN_PATIENTS = 1_000;

const logger = new Logger('OrganizationRecompute');

/**
 * ANALYZE of the tables whose statistics do not know the organization (analyzeUnseenTables), on the owner's
 * connection. Whether it found any. A failure is logged, not the run's: the statistics only make its plans better.
 */
async function analyzeUnseen(
  first: BatchTenantConnection,
  ownerNow: () => Promise<OwnerConnection>,
  organizationId: string,
  tables: readonly string[],
): Promise<boolean> {
  try {
    return (await analyzeUnseenTables(first, ownerNow, tables)).length > 0;
  } catch (err) {
    logger.warn(`Statistics of organization ${organizationId} not refreshed: ${(err as Error).message}`);
    return false;
  }
}

/** Chunks a connection reads ahead while the models are still being fitted. */
const MAX_CHUNKS_READ_AHEAD = 3;

/**
 * A small organization (fewer live patients than this): its nightly run (`refit: 'when-due'`, `vacuum:
 * 'own-partition'`) keeps its recent models instead of refitting (nightlyRefitDue) and leaves its metrics partition
 * to autovacuum; the nightly job runs its follow-ups in the same job (docs/scaling.md, "Many clinics").
 */
export const SMALL_ORGANIZATION_PATIENTS = 10_000;

export interface RecomputeResult {
  organizationId: string;
  patients: number;
  /** Fit durations and the time the scoring took, in milliseconds. */
  fitMs: number;
  totalMs: number;
  fitted: boolean;
  /** Whether the models were fitted in this run (else the stored ones were used: `refit` false, or not due). */
  refitted: boolean;
  /** Where the time went, in milliseconds (reads overlap scoring and writes). */
  phases: RecomputePhases;
  /** Patients whose kept features were rolled forward (the others were read afresh). */
  featuresKept: number;
  /** What the fit did (refitted runs): its inputs' read, the optimizer's time and iterations. */
  fit?: FitStats;
  /**
   * A small organization's (SMALL_ORGANIZATION_PATIENTS): the 75th percentile (`percentile_disc`) of the `ltv_cents`
   * the run wrote, which are the organization's live patients' metrics once it ends (the deleted patients' rows go
   * with it), null without patients: the opportunities' LTV threshold as their rebuild would read it back
   * (OpportunitiesRefresher, in the nightly job's follow-ups). Undefined for a larger organization.
   */
  ltvPercentile75Cents?: number | null;
}

export interface RecomputePhases {
  /** Getting the run's connections (opened, or reused and rebound) with their session settings. */
  connectMs: number;
  /** The advisory lock, the organization's row, the chunk boundaries and the kept-features check. */
  setupMs: number;
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
  /** Rebuild and swap only: how long the swap held its locks (every reader of `patient_metrics` waits meanwhile). */
  swapMs?: number;
  /** The closing ANALYZE (or VACUUM (ANALYZE), with `vacuum: true`) of the scoring tables. */
  vacuumMs: number;
}

export type ProgressCallback = (done: number, total: number) => void;

export interface RecomputeOptions {
  onProgress?: ProgressCallback;
  chunkSize?: number;
  /**
   * false: score with the stored models instead of refitting them. 'when-due' (the nightly job's): a small
   * organization (SMALL_ORGANIZATION_PATIENTS) keeps its stored models unless a refit is due (nightlyRefitDue: none
   * yet, other settings, a week old, or its weekday); a larger one refits. Default true.
   */
  refit?: boolean | 'when-due';
  /** Where the runtime-role connections come from and go back to (a worker reuses them: ReusedConnections). */
  connections?: RecomputeConnectionSource;
  /**
   * The closing maintenance: VACUUM (ANALYZE) of the scoring tables, every organization's rows (undefined or true),
   * ANALYZE only ('analyze'), none (false), or VACUUM (ANALYZE) of this organization's metrics partition alone
   * ('own-partition': the nightly job's, whose cost stays proportional to the organization however many share the
   * database; an organization without a partition of its own (in the shared one), a small organization's partition
   * (a few hundred rows whose heap visits cost the list nothing), and the shared history and kept-features tables are
   * left to autovacuum).
   */
  vacuum?: boolean | 'analyze' | 'own-partition';
  /** false: read every patient's features afresh, ignoring the kept ones (they are rewritten). Default true. */
  reuseFeatures?: boolean;
  /** 'auto' (default): rebuild and swap from REBUILD_MIN_PATIENTS live patients (metrics-partition-swap.ts). */
  write?: MetricsWriteMode;
  rebuildHooks?: RebuildHooks;
  /**
   * Prepare a small organization's statements on the run's connections (BatchTenantConnection.prepareStatements): for
   * connections reused from one organization's run to the next (the nightly job's ReusedConnections), where the same
   * statements come back thousands of times a night. Default false.
   */
  prepare?: boolean;
}

export const RECOMPUTE_APPLICATION_NAME = 'patient-journey-recompute';
const APPLICATION_NAME = RECOMPUTE_APPLICATION_NAME;

/** A session setting of every connection of the run: no JIT (its compile time outweighs these statements' gain). */
const SESSION = `SET jit = off; SET synchronous_commit = off; SET work_mem = '64MB'`;
/** The runtime-role connections' session: the same every run, so a reused connection keeps it. */
export const RECOMPUTE_SESSION = `${SESSION}; SET temp_buffers = '64MB'`;

/** The owner's connection for the rebuild's DDL and index builds and the closing VACUUM, set up as the run's own. */
async function ownerConnection(database: Database): Promise<OwnerConnection> {
  const owner = await database.ownerConnection(`${APPLICATION_NAME}-maintenance`);
  await owner.query(SESSION);
  return owner;
}

/**
 * Recomputes every patient of an organization: the phases (docs/scoring.md, "Organization-wide recompute") are
 * read features (read-chunk.ts: kept features rolled forward, the others read afresh), fit (organization-context.ts,
 * on a sample or on the one chunk), score (in Node), write (the update path, or rebuild and swap:
 * metrics-partition-swap.ts) and maintenance (maintenance.ts).
 *
 * It runs on two connections of its own bound to the organization, as the runtime role under row-level security
 * (Database.batchConnection; a worker's runs reuse them from one organization to the next: ReusedConnections);
 * only the partition DDL of the rebuild, the closing VACUUM and the ANALYZE of never-analyzed source tables open
 * the owner's connection, when the run needs them. It walks the organization in id-range chunks (boundaries from one walk of the id index); both
 * connections take the next chunk in turn: read its features (one statement), score it in Node, write it; each
 * chunk commits on its own. So the database always has two statements to run, one per core. Before the first
 * write, one connection refits the CLV models (on the whole organization when it is one chunk, else on a random
 * sample) and reads the referred patients' revenue for the whole organization (one pass over its payments; the
 * chunks' features leave it out) while the other reads the first chunks. Usable without Nest: the CLI, the nightly
 * job and the demo seed call it.
 */
export async function recomputeOrganization(
  database: Database,
  repos: ScoringRepositories,
  organizationId: string,
  now: Date,
  options: RecomputeOptions = {},
): Promise<RecomputeResult> {
  const started = Date.now();
  const source = options.connections ?? freshConnections(database, APPLICATION_NAME, RECOMPUTE_SESSION);
  // Every connection reads and writes. The reads' settings are per transaction (SET LOCAL in readChunk): a chunk
  // is tens of thousands of patients, so hash and merge joins; nested loops only appear when statistics are
  // missing or stale (right after a bulk load), and then rescan an aggregate once per patient. No parallel
  // workers: the other connection keeps the other core busy.
  const opened = await Promise.allSettled([source.acquire(organizationId), source.acquire(organizationId)]);
  const connections = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failedOpen = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failedOpen) {
    await Promise.all(connections.map((c) => source.release(c, false)));
    throw failedOpen.reason;
  }
  // The owner's connection only when the run needs one: a fresh bulk load to analyze, the rebuild, the VACUUM.
  const owner: { connection: OwnerConnection | null } = { connection: null };
  const ownerNow = async (): Promise<OwnerConnection> => (owner.connection ??= await ownerConnection(database));
  let rebuild: MetricsRebuild | null = null;
  let clean = false;
  const phases: RecomputePhases = { connectMs: Date.now() - started, setupMs: 0, readMs: 0, waitMs: 0, scoreMs: 0, writeMs: 0, vacuumMs: 0 };
  try {
    const [first, second] = connections;
    const setupStarted = Date.now();
    // Once every source table of the database has statistics, this process stops asking (a round trip per run):
    // analyzed tables keep their statistics (autovacuum off or not), and later loads are the request path's.
    if (!sourcesAnalyzed.has(database)) {
      const fresh = await neverAnalyzedSources(first);
      if (fresh.length > 0) await analyzeTables(await ownerNow(), fresh);
      sourcesAnalyzed.add(database);
    }
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const boundaryEvery = Math.max(1, Math.floor(chunkSize / TAIL_SPLIT));
    // One organization-wide run per organization at a time (the nightly job, a CLI run, the demo seed, in any
    // process): a second waits for the first to end (the lock is released at the end, or goes with the first's
    // connection). Two at once would share the rebuild's fresh table and the kept features' rows. The lock is tried
    // in the setup's one statement (the organization, the chunk boundaries, the kept-features check, the stored fit:
    // five round trips before, recompute-setup.ts); when another run holds it, this one waits, then reads again.
    let setup = await readRunSetup(first, boundaryEvery, { tryLock: true });
    if (setup && !setup.locked) {
      await first.query(`SELECT pg_advisory_lock(${RECOMPUTE_LOCK_KEY})`, [organizationId]);
      setup = await readRunSetup(first, boundaryEvery, { tryLock: false });
    }
    if (!setup) throw new Error(`Organization ${organizationId} not found`);
    const { organization, boundaries } = setup;
    const settings = organizationScoringSettings(organization.settings);
    const ranges = idRanges(taperedBoundaries(boundaries.ids));
    const total = boundaries.patients;
    const today = localDate(now, organization.timezone);
    const small = total < SMALL_ORGANIZATION_PATIENTS;
    // A small organization's statements are prepared on its connections (reused by the next organizations' runs:
    // parsed once per connection, and planned once after five runs); a large one's chunks are planned for their values.
    if (small && options.prepare) for (const c of connections) c.prepareStatements();
    // A clinic the statistics do not know yet (it joined a database holding others, through the API's ingestion, and
    // no ANALYZE has sampled its rows since) had every statement of its run planned for one row: a 5,000-patient
    // clinic beside the million-patient one read its chunk in 4.1 s instead of 0.4 s and fitted in 4.3 s instead of
    // 0.6 s, every night (docs/scaling.md, "A clinic the statistics do not know"). Its tables are analyzed first, the
    // read path's with them (ORGANIZATION_TABLES: its journeys and list pages were planned the same way). Asked from
    // UNSEEN_CHECK_MIN_PATIENTS live patients (1-3 ms a run); a smaller clinic's one-row plans cost it little. The
    // tables this run writes (its kept features, scores, history) are asked about again at its end, for its
    // follow-ups, when the start found the organization unknown: its first night.
    const unseenAtStart =
      total >= UNSEEN_CHECK_MIN_PATIENTS && (await analyzeUnseen(first, ownerNow, organizationId, ORGANIZATION_TABLES));
    // The referred patients' revenue for the whole organization at once (the chunks' features leave it out), on the
    // second connection meanwhile. One statement: no transaction of its own (two round trips fewer).
    const referredNet = repos.features.referredNetRevenue(second, now);
    referredNet.catch(() => undefined); // awaited below and by the workers
    const keep = { settingsKey: keptFeaturesKey(settings) };
    // Nothing kept under these settings (the first run, a settings change): every chunk is read whole, without first
    // looking up kept rows that are not there. The setup's sample row answers when it carries this key or there is
    // none; another key (settings changed since, or several keys) is asked about.
    const reuse =
      options.reuseFeatures !== false &&
      setup.keptKeySample !== null &&
      (setup.keptKeySample === keep.settingsKey || (await repos.features.hasKeptFeatures(first, keep.settingsKey)));
    let featuresKept = 0;
    // A small organization's LTVs as written (ltvPercentile75Cents): at most SMALL_ORGANIZATION_PATIENTS numbers.
    const ltvs: number[] | null = small ? [] : null;
    const write = options.write ?? 'auto';
    // Before the first chunk is read: from here on the request path's writes to the live partition are logged.
    if (write === 'rebuild' || (write === 'auto' && total >= REBUILD_MIN_PATIENTS))
      rebuild = await MetricsRebuild.start(await ownerNow(), organizationId);
    // A small organization's nightly run keeps its recent models (nightlyRefitDue): no fit, the setup's stored fit.
    let refit = options.refit !== false;
    let stored: Promise<StoredFits | null> | null = null;
    if (options.refit === 'when-due' && small) {
      stored = Promise.resolve(setup.stored);
      refit = nightlyRefitDue(setup.stored, now, { organizationId, settingsKey: scoringSettingsKey(settings) });
    }
    phases.setupMs = Date.now() - setupStarted;
    // Whether the run ends with maintenance on the owner's connection (between its last statement and its unlock).
    const maintenance =
      options.vacuum === undefined ||
      options.vacuum === true ||
      options.vacuum === 'analyze' ||
      (options.vacuum === 'own-partition' && !small);
    // An organization of one chunk written in place with no maintenance to follow (a small organization's nightly run).
    const oneChunkInPlace = ranges.length === 1 && !rebuild && !maintenance;
    const read = async (conn: BatchTenantConnection, i: number): Promise<FeatureRow[]> => {
      const t = Date.now();
      // An organization of one chunk written in place (endInWrite, below): the read's COMMIT goes with the write's
      // BEGIN on the same connection (one round trip fewer; the read's transaction stays open while the chunk is
      // scored, a few milliseconds).
      const chunk = await readChunk(repos, conn, { kind: 'range', ...ranges[i] }, now, {
        settings,
        timeZone: organization.timezone,
        reuse,
        keep,
        // A small organization's risk history by the window's pass (riskHistoryWindowPass); a larger one's chunks by
        // the lookups, as measured for them.
        history: small ? 'window' : 'lookups',
        commitWithNext: oneChunkInPlace,
      });
      featuresKept += chunk.kept;
      phases.readMs += Date.now() - t;
      return chunk.rows;
    };
    options.onProgress?.(0, total);
    // The models, after the referred revenue, on the second connection: the stored ones (refit false); else fitted
    // on the whole organization when it is one chunk (from that chunk's features, below), or on a random sample of it
    // (fitModelsOnSample). A chunk is a range of ids, and ids may be time-ordered: the first chunk would be the
    // oldest patients, not a sample. Meanwhile the first connection reads chunks ahead.
    const fitStarted = Date.now();
    const fitStats: FitStats | undefined = refit ? { inputMs: 0, optimizerMs: 0, bgnbdIterations: null, gammaGammaIterations: null, accepted: false, sampleSize: 0 } : undefined;
    const sampled: Promise<ScoringModels | null> | null =
      !refit
        ? referredNet.then(() => stored ?? repos.fits.latestFits(second)).then((f) => f?.models ?? null)
        : ranges.length > 1
          ? referredNet.then(() => second.transaction(() => fitModelsOnSample(repos, second, settings, now, total, fitStats)))
          : null;
    let fitMs = 0;
    // The fit's time is until its models are in (read, fitted, stored), not until a connection next looks for them.
    const fitted = <T>(p: Promise<T>): Promise<T> => p.then((v) => ((fitMs = Date.now() - fitStarted), v));
    let contextPromise: Promise<OrganizationContext> | null = sampled ? fitted(sampled).then((models) => ({ organization, settings, models })) : null;
    contextPromise?.catch(() => undefined); // awaited by the workers
    let done = 0;
    let nextChunk = 0;
    let failed = false;
    // Whether the models and the referred revenue are in: until then a connection reads ahead instead of waiting.
    let modelsReady = false;
    void Promise.all([contextPromise, referredNet]).then(
      () => (modelsReady = true),
      () => undefined,
    );
    // An organization of one chunk written in place with no maintenance to follow (a small organization's nightly
    // run): the deleted patients' metrics go in its write's transaction and the unlock follows that COMMIT in the
    // same message, two round trips fewer. Literals: the organization id is a checked UUID (tenantId).
    const endInWrite =
      oneChunkInPlace
        ? {
            beforeCommit: inlineParams(DELETE_METRICS_OF_DELETED_SQL, [organizationId]),
            afterCommit: inlineParams(`SELECT pg_advisory_unlock(${RECOMPUTE_LOCK_KEY})`, [organizationId]),
          }
        : null;
    let unlocked = false;
    const work = async (conn: BatchTenantConnection, beforeFirst: Promise<unknown>): Promise<void> => {
      await beforeFirst;
      const held: FeatureRow[][] = [];
      while (!failed && nextChunk < ranges.length) {
        const i = nextChunk++;
        held.push(await read(conn, i));
        // While the models are being fitted and the referred revenue read (on the other connection), read ahead
        // instead of waiting: at a million patients the two outlast a chunk's read.
        if (contextPromise !== null && !modelsReady && held.length < MAX_CHUNKS_READ_AHEAD && nextChunk < ranges.length) continue;
        for (const rows of held.splice(0)) {
          let t = Date.now();
          const referred = await referredNet;
          for (const row of rows) row.referredNetRevenueCents = referred.get(row.patientId) ?? 0;
          // One chunk (no sample): the models are fitted on its features, on this connection.
          contextPromise ??= fitted(
            conn.transaction(() => fitAndStoreModels(repos, conn, rows.map((features) => ({ id: features.patientId, features })), settings, now, fitStats)),
          ).then((models) => ({ organization, settings, models }));
          const context = await contextPromise;
          phases.waitMs += Date.now() - t;
          t = Date.now();
          const scores = scoreRows(rows, now, context);
          if (ltvs) for (const s of scores) ltvs.push(s.ltvCents);
          phases.scoreMs += Date.now() - t;
          t = Date.now();
          // The run's end in the one chunk's COMMIT message (endInWrite, below): its last statement and its unlock.
          const end: { beforeCommit?: string; afterCommit?: string } = endInWrite && conn === first ? endInWrite : {};
          await conn.transaction(
            () => (rebuild ? rebuild.writeChunk(conn, scores, now, today) : repos.scores.saveScores(conn, scores, now, today)),
            end,
          );
          if (end.afterCommit) unlocked = true;
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
      // The index builds run on two owner connections (each takes the next index as soon as it is free).
      const firstOwner = await ownerNow();
      const secondOwner = await ownerConnection(database);
      try {
        ({ takenOver: phases.takenOver, swapMs: phases.swapMs } = await rebuild.finish([firstOwner, secondOwner], options.rebuildHooks));
      } finally {
        await secondOwner.end();
      }
      phases.rebuildMs = Date.now() - t;
      phases.writeMs += phases.rebuildMs;
      rebuild = null;
    } else if (!unlocked) {
      // One statement, its own implicit transaction.
      await repos.scores.deleteMetricsOfDeletedPatients(first, { kind: 'range', from: null, to: null });
    }
    const vacuumStarted = Date.now();
    // A rebuilt partition is vacuumed and analyzed already: only the history and the kept features are left.
    const tables = phases.rebuildMs === undefined ? undefined : ['risk_score_history', 'patient_features'];
    if (options.vacuum === undefined || options.vacuum === true) await vacuumScoringTables(await ownerNow(), tables);
    else if (options.vacuum === 'analyze') await analyzeScoringTables(await ownerNow(), tables);
    else if (options.vacuum === 'own-partition' && phases.rebuildMs === undefined && !small)
      await vacuumOwnPartition(await ownerNow(), organizationId);
    if (unseenAtStart) await analyzeUnseen(first, ownerNow, organizationId, RUN_TABLES);
    phases.vacuumMs = Date.now() - vacuumStarted;
    const modelsFitted = contextPromise !== null && (await contextPromise).models !== null;
    if (!unlocked) await first.query(`SELECT pg_advisory_unlock(${RECOMPUTE_LOCK_KEY})`, [organizationId]);
    clean = true;
    return {
      organizationId,
      patients: done,
      fitMs,
      totalMs: Date.now() - started,
      fitted: modelsFitted,
      refitted: refit,
      phases,
      featuresKept,
      fit: fitStats,
      ...(ltvs ? { ltvPercentile75Cents: percentileDisc(ltvs, 0.75) } : {}),
    };
  } catch (err) {
    if (rebuild && owner.connection) await rebuild.abandon(owner.connection);
    throw err;
  } finally {
    // A connection goes back for another run only when this one ended cleanly, its lock released.
    await Promise.all([...connections.map((c) => source.release(c, clean)), owner.connection?.end()]);
  }
}
