/**
 * The server's CPU of a small clinic's nightly opportunities statements (the rules' lock and percentile, the
 * rebuild with its refresh row: OpportunitiesRefresher's `small` path in JobService.runTogether's transaction) as a
 * NEXT-DAY night sees them, two or more variants alternated clinic by clinic on one connection:
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> [VARIANTS=main,given] [ORGS=120] [MOVED=7] [EXPLAIN=1] \
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/opportunities-night-bench.ts
 * Each clinic in a transaction rolled back, as the runtime role, with runTogether's settings. A next-day night moves
 * most patients' success probability (the scores' decay), so before the statements the transaction lowers the
 * `success_probability` of MOVED in 10 of the clinic's metrics rows (by a hash of the patient id): the rebuild then
 * updates those patients' opportunities, which an earlier transaction wrote (as the night finds them: no foreign-key
 * checks, which an update of a row written in the same transaction would fire). Variants: `main` (the lock and the
 * percentile in one statement, then the rebuild), `given` (the percentile passed in: the lock and the recall setting
 * only), `noindex` (`given` with the two filtered list indexes dropped in the transaction: what they cost the update).
 * Named statements (the plan cache picks a generic plan after five, as on the night's connections); the first ten
 * clinics are not counted. Prints per variant and statement the server's CPU (the backend's /proc schedstat) mean
 * and median per clinic, and the rows updated. EXPLAIN=1: EXPLAIN (ANALYZE, BUFFERS) of each variant's rebuild for
 * the last clinic instead of timing it. docs/scaling.md, "The opportunities' night".
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { CLASSIFY_ORGANIZATION_SQL, CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL } from 'src/opportunities/opportunities.sql';
import { REBUILD_SETTINGS, setLocal } from 'src/database/tenant/rebuild-settings';

const NIL = '00000000-0000-0000-0000-000000000000';
const RULES = `SELECT pg_advisory_xact_lock(hashtext('opportunities:' || $2::text)) AS locked,
  (SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents)
     FROM patient_metrics m JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
    WHERE m.organization_id = $1 AND p.deleted_at IS NULL) AS threshold,
  (SELECT o.settings ->> 'recall_interval_days' FROM organizations o WHERE o.id = $1) AS recall`;
const RECALL = `SELECT pg_advisory_xact_lock(hashtext('opportunities:' || $2::text)) AS locked,
  (SELECT o.settings ->> 'recall_interval_days' FROM organizations o WHERE o.id = $1) AS recall`;

const variants = (process.env.VARIANTS ?? 'main,given').split(',');
const moved = Number(process.env.MOVED ?? '7');
const explain = process.env.EXPLAIN === '1';

void (async () => {
  const c = new Client({ connectionString: process.env.BENCH_DATABASE_URL, options: '-c timezone=UTC' });
  await c.connect();
  const pid = ((await c.query(`SELECT pg_backend_pid() AS pid`)).rows[0] as { pid: number }).pid;
  const cpuMs = (): number => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  const orgs = (
    await c.query(`SELECT organization_id AS id FROM opportunity_refreshes ORDER BY organization_id LIMIT $1`, [Number(process.env.ORGS ?? '120')])
  ).rows as { id: string }[];
  const acc = new Map<string, number[]>();
  const updated = new Map<string, number>();
  const push = (k: string, v: number): void => void acc.set(k, [...(acc.get(k) ?? []), v]);
  for (const [i, o] of orgs.entries()) {
    const now = ((await c.query(`SELECT refreshed_at + interval '1 day' AS t FROM opportunity_refreshes WHERE organization_id = $1`, [o.id])).rows[0] as { t: Date }).t;
    // Alternated: each clinic runs every variant, the order turned round clinic by clinic.
    const order = i % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      await c.query(`BEGIN; ${setLocal(['synchronous_commit = off', ...REBUILD_SETTINGS, 'enable_nestloop = off'])}`);
      await c.query(
        `UPDATE patient_metrics SET success_probability = success_probability * 0.97 WHERE organization_id = $1 AND abs(hashtext(patient_id::text)) % 10 < $2`,
        [o.id, moved],
      );
      if (v === 'noindex')
        await c.query(`DROP INDEX idx_reengagement_opportunities_priority_expected_return; DROP INDEX idx_reengagement_opportunities_type_expected_return`);
      // The percentile as the recompute has it in hand (read before the clock starts, by every variant alike).
      const threshold = Number(
        ((await c.query(
          `SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents) AS t FROM patient_metrics m JOIN patients p ON p.id = m.patient_id WHERE m.organization_id = $1 AND p.deleted_at IS NULL`,
          [o.id],
        )).rows[0] as { t: number | null }).t ?? 0,
      );
      await c.query(`SET LOCAL role patient_journey_app`);
      await c.query(`SELECT set_config('app.organization_id', $1, true)`, [o.id]);
      let t = cpuMs();
      if (v === 'main') {
        const r = (await c.query({ name: 'rules', text: RULES, values: [o.id, o.id] })).rows[0] as { threshold: number | null };
        if (Number(r.threshold ?? 0) !== threshold) throw new Error(`threshold ${String(r.threshold)} against ${threshold}`);
      } else await c.query({ name: 'recall', text: RECALL, values: [o.id, o.id] });
      if (i >= 10) push(`${v} lock+rules`, cpuMs() - t);
      const values = [o.id, now, NIL, null, null, null, threshold, 180, 1];
      const name = `rebuild-${v}`;
      if (explain && i === orgs.length - 1) {
        const lit = (x: unknown): string => (x === null ? 'NULL' : x instanceof Date ? `'${x.toISOString()}'` : typeof x === 'number' ? String(x) : `'${String(x)}'`);
        await c.query({ name, text: CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL, values }).catch(() => undefined);
        await c.query('ROLLBACK');
        await c.query(`BEGIN; ${setLocal(['synchronous_commit = off', ...REBUILD_SETTINGS, 'enable_nestloop = off'])}`);
        await c.query(`UPDATE patient_metrics SET success_probability = success_probability * 0.97 WHERE organization_id = $1 AND abs(hashtext(patient_id::text)) % 10 < $2`, [o.id, moved]);
        await c.query(`SET LOCAL role patient_journey_app; SELECT set_config('app.organization_id', '${o.id}', true)`);
        const plan = await c.query(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE "${name}"(${values.map(lit).join(', ')})`);
        process.stdout.write(`--- ${v}\n${plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}\n`);
      } else {
        const before = Number(((await c.query(`SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'reengagement_opportunities'`)).rows[0] as { n_tup_upd: string }).n_tup_upd);
        t = cpuMs();
        if (v === 'select') await c.query({ name, text: CLASSIFY_ORGANIZATION_SQL, values: values.slice(0, 8) });
        else await c.query({ name, text: CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL, values });
        if (i >= 10) push(`${v} rebuild`, cpuMs() - t);
        const after = Number(((await c.query(`SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'reengagement_opportunities'`)).rows[0] as { n_tup_upd: string }).n_tup_upd);
        if (i >= 10) updated.set(v, (updated.get(v) ?? 0) + after - before);
      }
      await c.query('ROLLBACK');
    }
  }
  const counted = Math.max(1, orgs.length - 10);
  for (const [k, v] of acc) {
    const s = [...v].sort((a, b) => a - b);
    process.stdout.write(`${k}: server CPU mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)} ms, median ${s[s.length >> 1].toFixed(3)} ms (${v.length} clinics)\n`);
  }
  for (const [k, n] of updated) process.stdout.write(`${k}: ${(n / counted).toFixed(1)} opportunities updated per clinic\n`);
  await c.end();
})();
