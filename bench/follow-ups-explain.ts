/**
 * The plans of a small clinic's nightly follow-up statements (the opportunities rebuild and the engagement rollup
 * rebuild, as JobService.runTogether runs them), on a database with many clinics, rolled back:
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register \
 *     bench/follow-ups-explain.ts [organization id]
 * As the app (runtime role, row-level security on, the transaction's settings of runTogether). Each statement runs
 * three times first (warm cache), then under EXPLAIN (ANALYZE, BUFFERS); the plans and the timings are printed.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { CLASSIFY_REPLACE_ORGANIZATION_SQL, CLASSIFY_REPLACE_SQL } from 'src/opportunities/opportunities.sql';
import { REBUILD_SQL } from 'src/engagement/engagement-rollup.repository';
import { REBUILD_SETTINGS, setLocal } from 'src/database/tenant/rebuild-settings';

const NIL = '00000000-0000-0000-0000-000000000000';

void (async () => {
  const c = new Client({ connectionString: process.env.BENCH_DATABASE_URL, options: '-c timezone=UTC' });
  await c.connect();
  const org =
    process.argv[2] ??
    ((await c.query(`SELECT organization_id AS id FROM patients GROUP BY 1 HAVING count(*) BETWEEN 100 AND 1000 ORDER BY 1 LIMIT 1 OFFSET 17`)).rows[0] as { id: string }).id;
  const tz = ((await c.query(`SELECT timezone FROM organizations WHERE id = $1`, [org])).rows[0] as { timezone: string }).timezone;
  const now = new Date();
  const [{ cutoff_at: cutoffAt }] = (
    await c.query(`SELECT (($1::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at`, [now, tz])
  ).rows as { cutoff_at: Date }[];
  const thr = Number(
    ((await c.query(`SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY ltv_cents) AS t FROM patient_metrics WHERE organization_id = $1`, [org])).rows[0] as { t: string }).t,
  );
  const statements: [string, string, unknown[]][] = [
    ['opportunities lock', `SELECT pg_advisory_xact_lock(hashtext('opportunities:' || $1))`, [org]],
    [
      'opportunities rules',
      `SELECT (SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents)
                 FROM patient_metrics m JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
                WHERE m.organization_id = $1 AND p.deleted_at IS NULL) AS threshold,
              (SELECT o.settings ->> 'recall_interval_days' FROM organizations o WHERE o.id = $1) AS recall`,
      [org],
    ],
    ['opportunities replace', CLASSIFY_REPLACE_SQL, [org, now, NIL, null, null, null, thr, 180]],
    ['opportunities replace (small)', CLASSIFY_REPLACE_ORGANIZATION_SQL, [org, now, NIL, null, null, null, thr, 180]],
    [
      'opportunities save',
      `INSERT INTO opportunity_refreshes (organization_id, refreshed_at, ltv_threshold_cents, totals, duration_ms)
       VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (organization_id) DO UPDATE
         SET refreshed_at = excluded.refreshed_at, ltv_threshold_cents = excluded.ltv_threshold_cents,
             totals = excluded.totals, duration_ms = excluded.duration_ms`,
      [org, now, thr, '[]', 5],
    ],
    ['rollup lock', `SELECT pg_advisory_xact_lock(hashtextextended('engagement-rollup:' || $1, 0))`, [org]],
    ['rollup timezone', `SELECT * FROM organizations WHERE id = $1`, [org]],
    ['rollup rebuild', REBUILD_SQL, [org, tz, cutoffAt]],
    [
      'rollup save',
      `INSERT INTO engagement_rollups (organization_id, timezone, cutoff, built_at, duration_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (organization_id) DO UPDATE
          SET timezone = EXCLUDED.timezone, cutoff = EXCLUDED.cutoff, built_at = EXCLUDED.built_at, duration_ms = EXCLUDED.duration_ms`,
      [org, tz, '2026-12-05', now, 5],
    ],
  ];
  const only = process.env.ONLY;
  if (process.env.TIME) {
    // Each statement's wall time over many clinics, each clinic's sequence in one transaction (rolled back).
    const ids = (await c.query(`SELECT organization_id AS id FROM patients GROUP BY 1 ORDER BY 1 LIMIT $1`, [Number(process.env.TIME)])).rows as { id: string }[];
    const times = new Map<string, number[]>();
    const cpu = new Map<string, number>();
    const pid = ((await c.query(`SELECT pg_backend_pid() AS pid`)).rows[0] as { pid: number }).pid;
    const backendCpuMs = (): number => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    };
    for (const { id } of ids) {
      const subst = statements.map(([n, q, p]) => [n, q, p.map((v) => (v === org ? id : v))] as const);
      const t0 = performance.now();
      await c.query(`BEGIN; SET LOCAL role patient_journey_app; ${setLocal(['synchronous_commit = off', ...REBUILD_SETTINGS])}`);
      await c.query(`SELECT set_config('app.organization_id', $1, true)`, [id]);
      times.set('begin', [...(times.get('begin') ?? []), performance.now() - t0]);
      for (const [n, q, p] of subst) {
        const t = performance.now();
        const c0 = backendCpuMs();
        if (process.env.PREPARED) await c.query({ name: n, text: q, values: p as unknown[] });
        else await c.query(q, p as unknown[]);
        times.set(n, [...(times.get(n) ?? []), performance.now() - t]);
        cpu.set(n, (cpu.get(n) ?? 0) + backendCpuMs() - c0);
      }
      await c.query('ROLLBACK');
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const [n, xs] of times)
      console.log(
        `${n}: median ${med(xs).toFixed(2)} ms, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)} ms, the server's CPU ${((cpu.get(n) ?? 0) / xs.length).toFixed(2)} ms per clinic`,
      );
    await c.end();
    return;
  }
  await c.query(`BEGIN; SET LOCAL role patient_journey_app; ${setLocal(['synchronous_commit = off', ...REBUILD_SETTINGS])}`);
  await c.query(`SELECT set_config('app.organization_id', $1, true)`, [org]);
  for (const [name, sql, params] of statements) {
    if (only && !name.includes(only)) continue;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await c.query(sql, params);
      times.push(performance.now() - t);
    }
    const plan = (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows.map((r: Record<string, string>) => r['QUERY PLAN']);
    console.log(`== ${name}: ${times.map((t) => t.toFixed(2)).join(' ')} ms`);
    if (process.env.PLANS !== '0') console.log(plan.join('\n'));
    else console.log(plan.slice(-2).join('\n'));
  }
  await c.query('ROLLBACK');
  await c.end();
})();
