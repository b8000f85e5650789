/**
 * The server's CPU of a small clinic's two heavy follow-up statements as the nightly run prepares them (named, so
 * that after five custom plans the connection keeps a generic one), per clinic, on one runtime-role connection, each
 * clinic's pair in a transaction rolled back, with the transaction's settings of JobService.runTogether:
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> [MODE=auto|force_generic_plan|force_custom_plan]
 *   [EXTRA="SET LOCAL enable_nestloop = on;"] TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/follow-ups-plans.ts
 * Prints the mean and median CPU per statement over the clinics after the first ten (the backend's scheduler time,
 * /proc/<pid>/schedstat: the server must run on this machine) and how many generic and custom plans each had.
 * docs/scaling.md, "The night's CPU per clinic".
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { CLASSIFY_REPLACE_ORGANIZATION_SQL } from 'src/opportunities/opportunities.sql';
import { REBUILD_SQL } from 'src/engagement/engagement-rollup.repository';
import { REBUILD_SETTINGS, setLocal } from 'src/database/tenant/rebuild-settings';

const NIL = '00000000-0000-0000-0000-000000000000';

void (async () => {
  const c = new Client({ connectionString: process.env.BENCH_DATABASE_URL });
  await c.connect();
  const pid = ((await c.query(`SELECT pg_backend_pid() AS pid`)).rows[0] as { pid: number }).pid;
  const cpuMs = (): number => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  const orgs = (
    await c.query(
      `SELECT p.organization_id AS id, min(o.timezone) AS tz FROM patients p JOIN organizations o ON o.id = p.organization_id GROUP BY 1 ORDER BY 1 LIMIT 40`,
    )
  ).rows as { id: string; tz: string }[];
  const mode = process.env.MODE ?? 'auto';
  if (!['auto', 'force_generic_plan', 'force_custom_plan'].includes(mode)) throw new Error(`MODE ${mode}`);
  const extra = process.env.EXTRA ?? '';
  const acc = new Map<string, number[]>();
  for (const [i, o] of orgs.entries()) {
    await c.query(
      `BEGIN; SET LOCAL role patient_journey_app; SET LOCAL plan_cache_mode = ${mode}; ${setLocal(['synchronous_commit = off', ...REBUILD_SETTINGS, 'enable_nestloop = off'])}; ${extra}`,
    );
    await c.query(`SELECT set_config('app.organization_id', $1, true)`, [o.id]);
    const now = new Date();
    const [{ cutoff_at: cutoffAt }] = (
      await c.query(`SELECT (($1::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at`, [now, o.tz])
    ).rows as { cutoff_at: Date }[];
    const statements: [string, string, unknown[]][] = [
      ['opportunities-replace-organization', CLASSIFY_REPLACE_ORGANIZATION_SQL, [o.id, now, NIL, null, null, null, 100000, 180]],
      ['engagement-rollup-rebuild', REBUILD_SQL, [o.id, o.tz, cutoffAt]],
    ];
    for (const [name, text, values] of statements) {
      const t = cpuMs();
      await c.query({ name, text, values });
      if (i >= 10) acc.set(name, [...(acc.get(name) ?? []), cpuMs() - t]);
    }
    await c.query('ROLLBACK');
  }
  for (const [name, v] of acc) {
    const sorted = [...v].sort((a, b) => a - b);
    process.stdout.write(
      `${mode}${extra ? ` (${extra})` : ''} ${name}: server CPU mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)} ms, median ${sorted[v.length >> 1].toFixed(2)} ms\n`,
    );
  }
  const plans = (await c.query(`SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name`)).rows;
  process.stdout.write(`${JSON.stringify(plans)}\n`);
  await c.end();
})();
