import type { Client } from 'pg';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';
import { copyInto } from 'src/database/seed/copy-table';
import { HistoryContext, writePatient } from 'src/database/seed/patient-history';
import { buildPools } from 'src/database/seed/seed-catalog';
import { SeedRandom } from 'src/database/seed/seed-random';
import { clinicTables, tablesInLoadOrder } from 'src/database/seed/seed-tables';

export interface GeneratorOptions {
  patients: number;
  seed: number;
  now: Date;
  /** Encrypts the PHI fields exactly as the app does (same keys for the same settings). */
  cipher: PhiCipherCore;
  /** Patients per COPY round (default 5,000). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Patients generated between two yields to the event loop, so the previous chunk's COPY data keeps flowing. */
const SLICE = 250;

/**
 * Fills an organization with a generated clinic and returns the row counts per table. Same seed, patient count and
 * `now`: same data (ids aside, which are time-ordered per run). Works inside the caller's transaction.
 *
 * Speed: patients are generated in chunks; chunk k+1 is generated while chunk k streams into PostgreSQL by COPY (one
 * statement per table and chunk). When the connecting user is a superuser, foreign-key triggers are skipped for the
 * COPY statements (`session_replication_role = replica`): every reference points at a row this generator wrote
 * before it. `patient_metrics` is loaded with its triggers on, so the maintained patient counts stay right.
 */
export async function generateClinic(client: Client, organizationId: string, options: GeneratorOptions): Promise<Record<string, number>> {
  const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  const superuser = rows[0]?.rolsuper === true;

  const nowMs = options.now.getTime();
  const tables = clinicTables(organizationId, Date.now());
  const ctx: HistoryContext = {
    rng: new SeedRandom(options.seed),
    pools: buildPools(options.seed),
    cipher: options.cipher,
    tables,
    organizationId,
    nowMs,
  };
  const chunkSize = options.chunkSize ?? 5000;
  const ordered = tablesInLoadOrder(tables);
  let loading: Promise<void> = Promise.resolve();
  options.onProgress?.(0, options.patients);
  for (let start = 0; start < options.patients; start += chunkSize) {
    const end = Math.min(options.patients, start + chunkSize);
    for (let i = start; i < end; i++) {
      writePatient(ctx, i);
      if ((i - start) % SLICE === SLICE - 1) await new Promise((r) => setImmediate(r));
    }
    const batch = ordered.map((t) => ({ table: t.table, columns: t.columns, data: t.take() }));
    await loading;
    options.onProgress?.(start, options.patients);
    loading = (async () => {
      for (const b of batch) {
        // patient_metrics keeps its triggers (the maintained patient counts); elsewhere only foreign keys would fire.
        const replica = superuser && b.table !== 'patient_metrics';
        if (replica) await client.query('SET LOCAL session_replication_role = replica');
        await copyInto(client, b.table, b.columns, b.data);
        if (replica) await client.query('SET LOCAL session_replication_role = DEFAULT');
      }
    })();
    // A failed COPY must surface at the next await, not as an unhandled rejection.
    loading.catch(() => undefined);
  }
  await loading;
  options.onProgress?.(options.patients, options.patients);
  return Object.fromEntries(ordered.map((t) => [t.table, t.count]));
}
