import type { Client } from 'pg';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { dropSecondaryIndexes, restoreIndexes, truncateEmptyTables } from 'src/demo-data/bulk-indexes';
import { addMetricCounts, copyInto } from 'src/demo-data/copy-table';
import type { ClinicKind } from 'src/demo-data/clinic-kinds';
import { blockCount, ExternalIdNumbering, type GeneratedBlock, SEED_BLOCK_PATIENTS, type SeedBlockSpec } from 'src/demo-data/seed-block';
import { defaultSeedWorkers, SeedBlockPool } from 'src/demo-data/seed-block-pool';
import { clinicIdPrefixes, clinicTables, tablesInLoadOrder } from 'src/demo-data/seed-tables';
import { SeedKeys } from 'src/demo-data/seed-keys';

export interface GeneratorOptions {
  /** The kind of clinic (default dental): its visit types, plans, conditions, medications and notes. */
  kind?: ClinicKind;
  patients: number;
  seed: number;
  now: Date;
  /** The master keys: the PHI fields are encrypted exactly as the app does (envelope keys under the same master keys). */
  cipher: PhiCipherCore;
  /** Patients per COPY round (default 5,000; whole generation blocks of SEED_BLOCK_PATIENTS). */
  chunkSize?: number;
  /**
   * Generator threads (SeedBlockPool): default one per core (at most 4) from BULK_LOAD_MIN_PATIENTS patients, 0
   * below (the calling thread). The clinic is the same whatever the number.
   */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called once per index rebuilt after a bulk load, with its name and build time. */
  onIndex?: (done: number, total: number, index?: { name: string; table: string; ms: number }) => void;
  /** Drop and rebuild secondary indexes around the load (superuser only); default: from BULK_LOAD_MIN_PATIENTS, when the clinic outnumbers the patients already there. */
  bulkLoad?: boolean;
  /**
   * Where the time went, in milliseconds, told once at the end: `generate` (waiting for generated and encrypted
   * blocks: generating them in the calling thread, or waiting for the generator threads),
   * `copy wait` (Node waiting for PostgreSQL to take the previous chunk: the COPY side is the slower one), `indexes`
   * (rebuilt after a bulk load), `analyze`, and the rest (`setup`: keys, index drops, counts).
   */
  onPhases?: (phases: Record<string, number>) => void;
}

/**
 * From this many patients, and as a superuser, the seed drops the secondary indexes of the tables it fills and
 * rebuilds them after loading (inside its transaction: the tables are locked for other sessions meanwhile).
 */
export const BULK_LOAD_MIN_PATIENTS = 20_000;

/**
 * Fills an organization with a generated clinic of one kind and returns the row counts per table. Same kind, seed,
 * patient count and `now`: same data (ids aside, which are time-ordered per run). Works inside the caller's transaction.
 *
 * Speed: patients are generated in chunks; chunk k+1 is generated while chunk k streams into PostgreSQL by COPY (one
 * statement per table and chunk). When the connecting user is a superuser, foreign-key triggers are skipped for the
 * COPY statements (`session_replication_role = replica`): every reference points at a row this generator wrote
 * before it. That also skips the statement trigger that maintains the patient counts, so the counts of the new rows
 * are added once at the end, as that trigger would. Otherwise `patient_metrics` is loaded with its triggers on. The
 * source tables' triggers that forget kept features skip the load (`app.bulk_load`): nothing was kept for new patients.
 * From BULK_LOAD_MIN_PATIENTS patients, a superuser also loads into tables without secondary indexes and rebuilds
 * those at the end (sorting a million keys once beats inserting them one by one, measured about 5x on this load),
 * unless the database already holds more patients than the clinic adds (the rebuild would sort all of theirs too).
 * In that mode, when the tables hold no row at all, they are truncated in the transaction and loaded WITH (FREEZE)
 * (truncateEmptyTables): nothing left for a later pass to set hint bits on or freeze.
 */
export async function generateClinic(client: Client, organizationId: string, options: GeneratorOptions): Promise<Record<string, number>> {
  const began = Date.now();
  const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  const superuser = rows[0]?.rolsuper === true;

  const keys = await SeedKeys.open(client, options.cipher, organizationId);
  const spec: SeedBlockSpec = {
    organizationId,
    kind: options.kind,
    seed: options.seed,
    poolsSeed: options.seed,
    patients: options.patients,
    nowMs: options.now.getTime(),
    idPrefixes: clinicIdPrefixes(Date.now()),
    kek: keys.organizationKey.kek,
    kekVersion: keys.organizationKey.version,
  };
  // The tables in load order (their names and columns): the patients' keys right after the patients (a key references its patient).
  const ordered = tablesInLoadOrder(clinicTables(organizationId, spec.idPrefixes, 0, 0));
  ordered.splice(1, 0, keys.table);
  const bulk = superuser && (options.bulkLoad ?? (options.patients >= BULK_LOAD_MIN_PATIENTS && (await patientsAlready(client)) < options.patients));
  const dropped = bulk ? await dropSecondaryIndexes(client, ordered.map((t) => t.table)) : [];
  // Into empty tables, truncated in this transaction: loaded frozen (COPY FREEZE, truncateEmptyTables). After the
  // drops: TRUNCATE builds each remaining index anew (empty, but each build syncs its file).
  const frozen = bulk ? await truncateEmptyTables(client, ordered.map((t) => t.table)) : new Set<string>();
  if (superuser) await client.query('SET LOCAL session_replication_role = replica');
  // New patients have no kept features to forget (migration 1795566805000): the source tables' triggers skip them.
  await client.query(`SET LOCAL app.bulk_load = 'on'`);
  const workers = options.workers ?? (options.patients >= BULK_LOAD_MIN_PATIENTS ? defaultSeedWorkers() : 0);
  const pool = new SeedBlockPool(spec, options.cipher, workers);
  const numbering = new ExternalIdNumbering();
  const blocks = blockCount(options.patients);
  const perRound = Math.max(1, Math.round((options.chunkSize ?? 5000) / SEED_BLOCK_PATIENTS));
  let loading: Promise<void> = Promise.resolve();
  const phases: Record<string, number> = { generate: 0, 'copy wait': 0, indexes: 0, analyze: 0, setup: 0 };
  options.onProgress?.(0, options.patients);
  try {
    for (let first = 0; first < blocks; first += perRound) {
      let t = Date.now();
      const round: GeneratedBlock[] = [];
      for (let b = first; b < Math.min(blocks, first + perRound); b++) {
        const block = await pool.block(b);
        numbering.apply(block);
        round.push(block);
        // Generating in this thread: let the previous round's COPY data flow between blocks.
        if (pool.size === 0) {
          phases.generate += Date.now() - t;
          await new Promise((r) => setImmediate(r));
          t = Date.now();
        }
      }
      phases.generate += Date.now() - t;
      t = Date.now();
      await loading;
      phases['copy wait'] += Date.now() - t;
      options.onProgress?.(Math.min(options.patients, first * SEED_BLOCK_PATIENTS), options.patients);
      loading = (async () => {
        for (let k = 0; k < ordered.length; k++) {
          await copyInto(
            client,
            ordered[k].table,
            ordered[k].columns,
            round.map((b) => b.tables[k].data),
            frozen.has(ordered[k].table),
          );
        }
      })();
      // A failed COPY must surface at the next await, not as an unhandled rejection.
      loading.catch(() => undefined);
    }
    const t = Date.now();
    await loading;
    phases['copy wait'] += Date.now() - t;
  } finally {
    await pool.close();
  }
  await client.query(`SET LOCAL app.bulk_load = 'off'`);
  if (superuser) {
    await client.query('SET LOCAL session_replication_role = DEFAULT');
    await addMetricCounts(client, [organizationId]);
  }
  let t = Date.now();
  await restoreIndexes(client, dropped, options.onIndex);
  phases.indexes = Date.now() - t;
  // Statistics for the planner right away: a bulk load's tables otherwise have none (or another size's) until
  // autovacuum gets to them, and the next queries (the scoring run, the lists) plan blind. Sampling: seconds.
  t = Date.now();
  if (dropped.length > 0) await client.query(`ANALYZE ${ordered.map((t) => t.table).join(', ')}`);
  phases.analyze = Date.now() - t;
  phases.setup = Date.now() - began - phases.generate - phases['copy wait'] - phases.indexes - phases.analyze;
  options.onPhases?.(phases);
  options.onProgress?.(options.patients, options.patients);
  return Object.fromEntries(ordered.map((t) => [t.table, numbering.rows[t.table] ?? 0]));
}

/**
 * About how many patients the database holds already (the planner's estimate: no scan). A bulk load rebuilds the
 * whole tables' indexes, other organizations' rows included: worth it only when the new clinic is most of them
 * (20,000 patients added to 50,000 cost 3.7 times the PostgreSQL CPU of the same rows' COPY and indexes alone).
 */
async function patientsAlready(client: Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = 'patients'::regclass`);
  return Number(rows[0]?.n ?? 0);
}
