/**
 * The rebuild probe's work (bench/rebuild-probe.ts), as a function for `npm run bench:write`: the organization's
 * metrics rows copied into a fresh table with no index, its VACUUM (ANALYZE), then the ten indexes of
 * `patient_metrics` built on two connections, as the recompute's rebuild and swap does. Changes nothing (the fresh
 * table lives in a schema of its own, dropped at the end).
 */
import { Client } from 'pg';

export const METRICS_INDEXES: [string, string][] = [
  ['pk', '(organization_id, patient_id)'],
  ['last_appointment_at', '(organization_id, last_appointment_at, patient_id)'],
  ['ltv_cents', '(organization_id, ltv_cents, patient_id)'],
  ['risk_score', '(organization_id, risk_score, patient_id)'],
  ['sort_name', '(organization_id, sort_name, patient_id)'],
  ['stale', '(organization_id, patient_id) WHERE stale'],
  ['status_last_appointment_at', '(organization_id, status, last_appointment_at, patient_id)'],
  ['status_ltv_cents', '(organization_id, status, ltv_cents, patient_id)'],
  ['status_risk_score', '(organization_id, status, risk_score, patient_id)'],
  ['status_sort_name', '(organization_id, status, sort_name, patient_id)'],
];

export interface RebuildProbeResult {
  rows: number;
  /** Milliseconds of each step: the copy, the VACUUM (ANALYZE), the ten indexes (wall clock), the total. */
  insertMs: number;
  vacuumMs: number;
  indexesMs: number;
  totalMs: number;
  /** Each index's build time. */
  indexTimes: string[];
  heap: string;
  indexes: string;
}

export async function rebuildProbe(url: string, organizationSlug: string, options: { fillfactor?: number; schema?: string } = {}): Promise<RebuildProbeResult> {
  const fillfactor = options.fillfactor ?? 50;
  if (!(Number.isInteger(fillfactor) && fillfactor >= 10 && fillfactor <= 100)) throw new Error('fillfactor must be an integer from 10 to 100');
  const schema = options.schema ?? 'rebuild_probe';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error('bad schema name');
  const [a, b] = [new Client({ connectionString: url, application_name: 'rebuild-probe' }), new Client({ connectionString: url, application_name: 'rebuild-probe' })];
  await Promise.all([a.connect(), b.connect()]);
  try {
    const org = (await a.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [organizationSlug])).rows[0]?.id;
    if (!org) throw new Error(`no organization ${organizationSlug}`);
    for (const c of [a, b]) await c.query(`SET maintenance_work_mem = '512MB'; SET max_parallel_maintenance_workers = 0; SET synchronous_commit = off`);
    await a.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await a.query(`DROP TABLE IF EXISTS ${schema}.pm`);
    const started = Date.now();
    await a.query(`CREATE TABLE ${schema}.pm (LIKE public.patient_metrics INCLUDING DEFAULTS) WITH (fillfactor = ${fillfactor})`);
    const inserted = await a.query(`INSERT INTO ${schema}.pm SELECT * FROM public.patient_metrics WHERE organization_id = $1`, [org]);
    const insertMs = Date.now() - started;
    let t = Date.now();
    await a.query(`VACUUM (ANALYZE) ${schema}.pm`);
    const vacuumMs = Date.now() - t;
    // The ten indexes, on two connections, each building its next one as soon as it is free.
    let next = 0;
    const indexTimes: string[] = [];
    const worker = async (c: Client): Promise<void> => {
      while (next < METRICS_INDEXES.length) {
        const [name, def] = METRICS_INDEXES[next++];
        const s = Date.now();
        await c.query(`CREATE ${name === 'pk' ? 'UNIQUE ' : ''}INDEX probe_${name} ON ${schema}.pm ${def}`);
        indexTimes.push(`${name} ${((Date.now() - s) / 1000).toFixed(2)} s`);
      }
    };
    t = Date.now();
    await Promise.all([worker(a), worker(b)]);
    const indexesMs = Date.now() - t;
    const totalMs = Date.now() - started;
    const size = await a.query<{ heap: string; indexes: string }>(
      `SELECT pg_size_pretty(pg_table_size('${schema}.pm')) AS heap, pg_size_pretty(pg_indexes_size('${schema}.pm')) AS indexes`,
    );
    return { rows: inserted.rowCount ?? 0, insertMs, vacuumMs, indexesMs, totalMs, indexTimes, heap: size.rows[0].heap, indexes: size.rows[0].indexes };
  } finally {
    await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await Promise.all([a.end(), b.end()]);
  }
}
