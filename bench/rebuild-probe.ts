/**
 * What "rebuild and swap" would cost the organization-wide recompute's write (docs/scoring.md, issue #5): the
 * organization's metrics rows written into a fresh table with no index, its visibility map set, and the ten indexes
 * of `patient_metrics` built once, on two connections as the recompute has. It times each step and prints them; it
 * changes nothing (the fresh table is an unlogged-free copy dropped at the end, inside a schema of its own).
 * `npm run bench:write` runs the same code (bench/write/rebuild-probe-run.ts) as the next-day recompute's floor.
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/rebuild-probe.ts --org <slug> [--fillfactor 50]
 *
 * The rows are copied server-side (INSERT ... SELECT from the live table): the recompute would COPY them from Node,
 * which it already does into a temporary table per chunk today, so this leaves out a cost both designs pay.
 */
import { parseArgs } from 'node:util';
import { rebuildProbe } from './write/rebuild-probe-run';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { org: { type: 'string' }, fillfactor: { type: 'string', default: '50' } } });
  const url = process.env.DATABASE_URL;
  if (!values.org || !url) throw new Error('usage: DATABASE_URL=... rebuild-probe.ts --org <slug> [--fillfactor 50]');
  const r = await rebuildProbe(url, values.org, { fillfactor: Number(values.fillfactor) });
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`create + insert (no index): ${s(r.insertMs)}`);
  console.log(`  rows: ${r.rows}`);
  console.log(`vacuum (analyze) (sets the visibility map): ${s(r.vacuumMs)}`);
  console.log(`ten indexes on two connections: ${s(r.indexesMs)}`);
  console.log(`  ${r.indexTimes.join(', ')}`);
  console.log(`total: ${s(r.totalMs)}`);
  console.log(`size: heap ${r.heap}, indexes ${r.indexes}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
