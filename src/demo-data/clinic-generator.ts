import type { Client } from 'pg';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { dropSecondaryIndexes, restoreIndexes } from 'src/demo-data/bulk-indexes';
import { addMetricCounts, copyInto } from 'src/demo-data/copy-table';
import { HistoryContext, writePatient } from 'src/demo-data/patient-history';
import { CLINIC_CATALOGS, ClinicKind, DEFAULT_CLINIC_KIND } from 'src/demo-data/clinic-kinds';
import { buildPools } from 'src/demo-data/seed-catalog';
import { SeedRandom } from 'src/demo-data/seed-random';
import { clinicTables, tablesInLoadOrder } from 'src/demo-data/seed-tables';
import { SeedKeys } from 'src/demo-data/seed-keys';

export interface GeneratorOptions {
  /** The kind of clinic (default dental): its visit types, plans, conditions, medications and notes. */
  kind?: ClinicKind;
  patients: number;
  seed: number;
  now: Date;
  /** The master keys: the PHI fields are encrypted exactly as the app does (envelope keys under the same master keys). */
  cipher: PhiCipherCore;
  /** Patients per COPY round (default 5,000). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called once per index rebuilt after a bulk load. */
  onIndex?: (done: number, total: number) => void;
  /** Drop and rebuild secondary indexes around the load (superuser only); default: from BULK_LOAD_MIN_PATIENTS, when the clinic outnumbers the patients already there. */
  bulkLoad?: boolean;
  /**
   * Where the time went, in milliseconds, told once at the end: `generate` (generating and encrypting, in Node),
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

/** Patients generated between two yields to the event loop, so the previous chunk's COPY data keeps flowing. */
const SLICE = 250;

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
 */
export async function generateClinic(client: Client, organizationId: string, options: GeneratorOptions): Promise<Record<string, number>> {
  const began = Date.now();
  const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  const superuser = rows[0]?.rolsuper === true;

  const nowMs = options.now.getTime();
  const tables = clinicTables(organizationId, Date.now());
  const keys = await SeedKeys.open(client, options.cipher, organizationId);
  const ctx: HistoryContext = {
    rng: new SeedRandom(options.seed),
    pools: buildPools(options.seed),
    keys,
    tables,
    organizationId,
    nowMs,
    catalog: CLINIC_CATALOGS[options.kind ?? DEFAULT_CLINIC_KIND],
  };
  const chunkSize = options.chunkSize ?? 5000;
  // The patients' keys right after the patients (a key references its patient).
  const ordered = tablesInLoadOrder(tables);
  ordered.splice(1, 0, keys.table);
  const dropped =
    superuser && (options.bulkLoad ?? (options.patients >= BULK_LOAD_MIN_PATIENTS && (await patientsAlready(client)) < options.patients))
      ? await dropSecondaryIndexes(
          client,
          ordered.map((t) => t.table),
        )
      : [];
  if (superuser) await client.query('SET LOCAL session_replication_role = replica');
  // New patients have no kept features to forget (migration 1795566805000): the source tables' triggers skip them.
  await client.query(`SET LOCAL app.bulk_load = 'on'`);
  let loading: Promise<void> = Promise.resolve();
  const phases: Record<string, number> = { generate: 0, 'copy wait': 0, indexes: 0, analyze: 0, setup: 0 };
  options.onProgress?.(0, options.patients);
  for (let start = 0; start < options.patients; start += chunkSize) {
    const end = Math.min(options.patients, start + chunkSize);
    let t = Date.now();
    for (let i = start; i < end; i++) {
      writePatient(ctx, i);
      if ((i - start) % SLICE === SLICE - 1) {
        phases.generate += Date.now() - t;
        await new Promise((r) => setImmediate(r));
        t = Date.now();
      }
    }
    phases.generate += Date.now() - t;
    const batch = ordered.map((t) => ({ table: t.table, columns: t.columns, data: t.take() }));
    t = Date.now();
    await loading;
    phases['copy wait'] += Date.now() - t;
    options.onProgress?.(start, options.patients);
    loading = (async () => {
      for (const b of batch) await copyInto(client, b.table, b.columns, b.data);
    })();
    // A failed COPY must surface at the next await, not as an unhandled rejection.
    loading.catch(() => undefined);
  }
  let t = Date.now();
  await loading;
  phases['copy wait'] += Date.now() - t;
  await client.query(`SET LOCAL app.bulk_load = 'off'`);
  if (superuser) {
    await client.query('SET LOCAL session_replication_role = DEFAULT');
    await addMetricCounts(client, [organizationId]);
  }
  t = Date.now();
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
  return Object.fromEntries(ordered.map((t) => [t.table, t.count]));
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
