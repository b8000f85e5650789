/**
 * What "rebuild and swap" would cost the organization-wide recompute's write (docs/scoring.md, issue #5): the
 * organization's metrics rows written into a fresh table with no index, its visibility map set, and the ten indexes
 * of `patient_metrics` built once, on two connections as the recompute has. It times each step and prints them; it
 * changes nothing (the fresh table is an unlogged-free copy dropped at the end, inside a schema of its own).
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/rebuild-probe.ts --org <slug> [--fillfactor 50]
 *
 * The rows are copied server-side (INSERT ... SELECT from the live table): the recompute would COPY them from Node,
 * which it already does into a temporary table per chunk today, so this leaves out a cost both designs pay.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';

const INDEXES: [string, string][] = [
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

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  console.log(`${label}: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { org: { type: 'string' }, fillfactor: { type: 'string', default: '50' } } });
  const url = process.env.DATABASE_URL;
  if (!values.org || !url) throw new Error('usage: DATABASE_URL=... rebuild-probe.ts --org <slug> [--fillfactor 50]');
  const fillfactor = Number(values.fillfactor);
  if (!(Number.isInteger(fillfactor) && fillfactor >= 10 && fillfactor <= 100)) throw new Error('--fillfactor must be an integer from 10 to 100');
  const [a, b] = [new Client({ connectionString: url }), new Client({ connectionString: url })];
  await Promise.all([a.connect(), b.connect()]);
  try {
    const org = (await a.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows[0]?.id;
    if (!org) throw new Error(`no organization ${values.org}`);
    for (const c of [a, b]) await c.query(`SET maintenance_work_mem = '512MB'; SET max_parallel_maintenance_workers = 0; SET synchronous_commit = off`);
    await a.query(`CREATE SCHEMA IF NOT EXISTS rebuild_probe`);
    await a.query(`DROP TABLE IF EXISTS rebuild_probe.pm`);
    const started = Date.now();
    await timed('create + insert (no index)', async () => {
      await a.query(`CREATE TABLE rebuild_probe.pm (LIKE public.patient_metrics INCLUDING DEFAULTS) WITH (fillfactor = ${fillfactor})`);
      const r = await a.query(`INSERT INTO rebuild_probe.pm SELECT * FROM public.patient_metrics WHERE organization_id = $1`, [org]);
      console.log(`  rows: ${r.rowCount}`);
    });
    await timed('vacuum (analyze) (sets the visibility map)', () => a.query(`VACUUM (ANALYZE) rebuild_probe.pm`));
    // The ten indexes, five per connection, each connection building its next one as soon as it is free.
    let next = 0;
    const times: string[] = [];
    const worker = async (c: Client): Promise<void> => {
      while (next < INDEXES.length) {
        const [name, def] = INDEXES[next++];
        const t = Date.now();
        await c.query(`CREATE ${name === 'pk' ? 'UNIQUE ' : ''}INDEX probe_${name} ON rebuild_probe.pm ${def}`);
        times.push(`${name} ${((Date.now() - t) / 1000).toFixed(2)} s`);
      }
    };
    await timed('ten indexes on two connections', () => Promise.all([worker(a), worker(b)]));
    console.log(`  ${times.join(', ')}`);
    console.log(`total: ${((Date.now() - started) / 1000).toFixed(2)} s`);
    const size = await a.query<{ heap: string; indexes: string }>(
      `SELECT pg_size_pretty(pg_table_size('rebuild_probe.pm')) AS heap, pg_size_pretty(pg_indexes_size('rebuild_probe.pm')) AS indexes`,
    );
    console.log(`size: heap ${size.rows[0].heap}, indexes ${size.rows[0].indexes}`);
  } finally {
    await a.query(`DROP SCHEMA IF EXISTS rebuild_probe CASCADE`).catch(() => undefined);
    await Promise.all([a.end(), b.end()]);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
