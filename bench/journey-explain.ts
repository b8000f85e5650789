/** EXPLAIN (ANALYZE, BUFFERS) of the journey, opportunities page and engagement queries on the benchmark clinic:
 *  TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/journey-explain.ts journey|opportunities [type]|engagement [visits]
 *  BENCH_DATABASE_URL (default the local `test` database), BENCH_ORG (organization slug, default `bench`),
 *  BENCH_NOW (ISO instant, default now). The engagement overview gets the default window (last 12 weeks by week in
 *  the organization's time zone) with the app's parameters: from the rollup (build it first:
 *  `node scripts/cli.js cli/engagement-rebuild --org <slug>`), or from the visits with `visits`. Output goes into docs/queries/. */
import { Client } from 'pg';
import { JOURNEY_SQL } from 'src/journey/journey.repository';
import { OPPORTUNITIES_PAGE_SQL } from 'src/opportunities/opportunities.repository';
import { engagementStatements } from 'src/engagement/engagement.repository';
import { localDate, nextDay } from 'src/common/time/calendar';
import { resolveWindow } from 'src/engagement/domain/engagement-window';
const NOW = new Date(process.env.BENCH_NOW ?? Date.now());
void (async () => {
  const c = new Client({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', options: '-c timezone=UTC' });
  await c.connect();
  const org = (await c.query(`SELECT id, timezone FROM organizations WHERE slug = $1`, [process.env.BENCH_ORG ?? 'bench'])).rows[0] as { id: string; timezone: string };
  const ORG = org.id;
  const which = process.argv[2];
  await c.query('BEGIN');
  await c.query('SET LOCAL role patient_journey_app');
  await c.query(`SELECT set_config('app.organization_id', $1, true)`, [ORG]);
  let sql: string;
  let params: unknown[];
  if (which === 'journey') {
    const id = (await c.query(`SELECT patient_id FROM patient_metrics WHERE organization_id=$1 AND total_sessions = 8 LIMIT 1 OFFSET 1000`, [ORG])).rows[0].patient_id;
    sql = JOURNEY_SQL; params = [ORG, id, NOW, 50];
  } else if (which === 'opportunities') {
    sql = OPPORTUNITIES_PAGE_SQL; params = [ORG, process.argv[3] ?? null, null, 50, 0];
  } else {
    const today = localDate(NOW, org.timezone);
    const w = resolveWindow({}, today);
    if ('field' in w) throw new Error(w.message);
    const q = { timeZone: org.timezone, granularity: w.granularity, from: w.from, toExclusive: nextDay(w.to), monthStart: `${today.slice(0, 7)}-01`, now: NOW };
    const s = await engagementStatements(async (text, values) => (await c.query(text, values)).rows, ORG, q);
    const chosen = process.argv[3] === 'visits' ? s.fromVisits : s.fromRollup;
    if (!chosen) throw new Error(`no usable rollup (${s.rollup.use}): node scripts/cli.js cli/engagement-rebuild --org <slug>`);
    ({ sql, params } = chosen);
    if (chosen === s.fromVisits) await c.query(`SET LOCAL work_mem = '64MB'`);
    else for (const set of [`SET LOCAL jit = off`, `SET LOCAL max_parallel_workers_per_gather = 0`]) await c.query(set);
    console.log(`-- ${org.timezone}, ${w.from} .. ${w.to} by ${w.granularity}, now ${NOW.toISOString()}, rollup cutoff ${s.rollup.cutoff ?? 'none'}`);
  }
  for (let i = 0; i < 2; i++) await c.query(sql, params);
  const t0 = performance.now();
  await c.query(sql, params);
  const ms = performance.now() - t0;
  const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
  console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
  console.log(`-- statement alone (third run, no EXPLAIN): ${ms.toFixed(1)} ms`);
  await c.query('ROLLBACK');
  await c.end();
})();
