/**
 * The engagement overview from its rollup on a database that must not be written (the seeded `bench` clinic):
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/engagement-rollup-explain.ts
 * builds the organization's rollup with the app's statements into session-private temporary tables that shadow the
 * migration's (same columns and keys; no foreign-key checks, so the build is faster than the app's), then times
 * ENGAGEMENT_ROLLUP_SQL for the default window (12 weeks by week, organization time zone) and prints its plan.
 * Nothing persistent is written; the tables go with the session.
 * - BENCH_DATABASE_URL (default the local `test` database), BENCH_ORG (slug, default `bench`), BENCH_NOW (ISO instant,
 *   default now); CUTOFF (`YYYY-MM-DD`, default today): an older cutoff leaves more visits to read from `appointments`;
 * - SURVEY_INDEX=1: a temporary copy of the survey answers with the migration's covering index, for a database the
 *   migration has not reached;
 * - COMPARE=1: also runs ENGAGEMENT_SQL (seconds each) for four windows and says whether the answers are identical.
 * docs/queries/engagement-overview.md has its output.
 */
import { Client } from 'pg';
import { BUILD_PATIENT_DAYS_SQL, BUILD_STEPS_SQL } from 'src/engagement/engagement-rollup.repository';
import { EngagementQuery, engagementStatements, RunQuery } from 'src/engagement/engagement.repository';
import { localDate, nextDay } from 'src/common/time/calendar';
import { Granularity, resolveWindow } from 'src/engagement/domain/engagement-window';

const NOW = new Date(process.env.BENCH_NOW ?? Date.now());

void (async () => {
  const c = new Client({
    connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    options: '-c timezone=UTC -c temp_buffers=256MB',
  });
  await c.connect();
  const org = (await c.query(`SELECT id, timezone FROM organizations WHERE slug = $1`, [process.env.BENCH_ORG ?? 'bench'])).rows[0] as { id: string; timezone: string };
  const run: RunQuery = async (text, values) => (await c.query(text, values)).rows;
  // As the app: the runtime role, row-level security on (session-wide here, for VACUUM outside a transaction).
  await c.query('SET role patient_journey_app');
  await c.query(`SELECT set_config('app.organization_id', $1, false)`, [org.id]);
  await c.query(
    `CREATE TEMP TABLE engagement_rollups (organization_id uuid PRIMARY KEY, timezone varchar(64) NOT NULL, cutoff date NOT NULL, built_at timestamptz NOT NULL, duration_ms int NOT NULL)`,
  );
  await c.query(
    `CREATE TEMP TABLE engagement_patient_days (organization_id uuid NOT NULL, patient_id uuid NOT NULL, first_day date NOT NULL, days date[] NOT NULL, engagement_score real, PRIMARY KEY (organization_id, patient_id))`,
  );
  await c.query(`CREATE INDEX ON engagement_patient_days (organization_id, first_day)`);
  await c.query(
    `CREATE TEMP TABLE engagement_visit_gaps (organization_id uuid NOT NULL, day date NOT NULL, prev date NOT NULL, patients int NOT NULL, score_sum float8 NOT NULL, scored int NOT NULL, PRIMARY KEY (organization_id, day, prev))`,
  );
  await c.query(`SET work_mem = '128MB'`);
  const today = localDate(NOW, org.timezone);
  const cutoff = process.env.CUTOFF ?? today;
  const [{ at: cutoffAt }] = await run<{ at: Date }>(`SELECT ($1::date::timestamp AT TIME ZONE $2) AS at`, [cutoff, org.timezone]);
  const t0 = performance.now();
  const [{ n: patients }] = await run<{ n: number }>(BUILD_PATIENT_DAYS_SQL, [org.id, org.timezone, cutoffAt]);
  const t1 = performance.now();
  const [{ n: steps }] = await run<{ n: number }>(BUILD_STEPS_SQL, [org.id]);
  console.log(
    `-- rollup build, cutoff ${cutoff}: ${patients} patients in ${(t1 - t0).toFixed(0)} ms, ${steps} steps in ${(performance.now() - t1).toFixed(0)} ms`,
  );
  await c.query(`INSERT INTO engagement_rollups VALUES ($1, $2, $3, $4, 0)`, [org.id, org.timezone, cutoff, NOW]);
  const temp = ['engagement_rollups', 'engagement_patient_days', 'engagement_visit_gaps'];
  if (process.env.SURVEY_INDEX) {
    await c.query(`CREATE TEMP TABLE survey_responses AS SELECT organization_id, submitted_at, satisfaction, nps FROM public.survey_responses`);
    await c.query(`CREATE INDEX ON survey_responses (organization_id, submitted_at, satisfaction, nps)`);
    temp.push('survey_responses');
  }
  for (const table of temp) await c.query(`VACUUM ANALYZE pg_temp.${table}`);
  await c.query(`RESET work_mem`);

  const query = (w: { from?: string; to?: string; granularity?: Granularity }): EngagementQuery => {
    const window = resolveWindow(w, today);
    if ('field' in window) throw new Error(window.message);
    return { timeZone: org.timezone, granularity: window.granularity, from: window.from, toExclusive: nextDay(window.to), monthStart: `${today.slice(0, 7)}-01`, now: NOW };
  };
  await c.query('BEGIN');
  const fromRollup = async (q: EngagementQuery): Promise<{ ms: number; row: Record<string, unknown> }> => {
    const s = await engagementStatements(run, org.id, q);
    if (!s.fromRollup) throw new Error(`rollup not usable: ${s.rollup.use}`);
    await c.query(`SET LOCAL jit = off`);
    await c.query(`SET LOCAL max_parallel_workers_per_gather = 0`);
    const started = performance.now();
    const [{ cutoff: _cutoff, ...row }] = await run<Record<string, unknown>>(s.fromRollup.sql, s.fromRollup.params);
    return { ms: performance.now() - started, row };
  };
  const q = query({});
  const times: string[] = [];
  for (let i = 0; i < 5; i++) times.push((await fromRollup(q)).ms.toFixed(0));
  console.log(`-- ${org.timezone}, ${q.from} .. ${q.toExclusive} (exclusive) by ${q.granularity}, now ${NOW.toISOString()}: ENGAGEMENT_ROLLUP_SQL ${times.join(', ')} ms`);
  const s = await engagementStatements(run, org.id, q);
  const plan = await run<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${s.fromRollup?.sql}`, s.fromRollup?.params ?? []);
  console.log(plan.map((x) => x['QUERY PLAN']).join('\n'));

  if (process.env.COMPARE) {
    for (const w of [{}, { from: '2026-01-01', to: '2026-01-28' }, { from: '2026-10-15', granularity: 'month' as const }, { from: '2026-11-01', granularity: 'day' as const }]) {
      const wq = query(w);
      const a = await fromRollup(wq);
      const visits = (await engagementStatements(run, org.id, wq)).fromVisits;
      await c.query(`SET LOCAL jit = on`);
      await c.query(`SET LOCAL max_parallel_workers_per_gather = 2`);
      await c.query(`SET LOCAL work_mem = '64MB'`);
      const started = performance.now();
      const [b] = await run<Record<string, unknown>>(visits.sql, visits.params);
      const ms = performance.now() - started;
      await c.query(`SET LOCAL work_mem = '4MB'`);
      const same = JSON.stringify(a.row) === JSON.stringify(b);
      console.log(`-- ${JSON.stringify(w)}: from the rollup ${a.ms.toFixed(0)} ms, from the visits ${ms.toFixed(0)} ms, identical answers: ${same}`);
    }
  }
  await c.query('ROLLBACK');
  await c.end();
})();
