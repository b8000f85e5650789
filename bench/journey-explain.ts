/** EXPLAIN (ANALYZE, BUFFERS) of the journey, opportunities page and engagement queries on the benchmark clinic:
 *  TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/journey-explain.ts journey|opportunities [type]|engagement
 *  (BENCH_DATABASE_URL, default the local pj_journey_bench). Output goes into docs/queries/. */
import { Client } from 'pg';
import { JOURNEY_SQL } from 'src/journey/journey.repository';
import { OPPORTUNITIES_PAGE_SQL } from 'src/opportunities/opportunities.repository';
import { ENGAGEMENT_SQL } from 'src/engagement/engagement.repository';
const ORG = '00000000-0000-4000-8000-00000000b001';
const NOW = new Date('2026-11-24T12:00:00Z');
void (async () => {
  const c = new Client({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pj_journey_bench', options: '-c timezone=UTC' });
  await c.connect();
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
    // Berlin midnights of 2026-09-07 and 2026-11-01 as instants; `to` capped at now.
    sql = ENGAGEMENT_SQL; params = [ORG, 'Europe/Berlin', 'week', new Date('2026-09-06T22:00:00Z'), new Date(NOW.getTime() + 1), new Date('2026-10-31T23:00:00Z'), NOW];
  }
  for (let i = 0; i < 2; i++) await c.query(sql, params);
  const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql}`, params);
  console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
  await c.query('ROLLBACK');
  await c.end();
})();
