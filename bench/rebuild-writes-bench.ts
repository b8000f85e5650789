/**
 * The organization-wide rebuilds' writing statements alone, on the same inputs, rolled back (issue #23, "The engagement
 * rebuild updates in place"):
 *   DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/rebuild-writes-bench.ts \
 *     [--org bench] [--runs 1] [--only engagement,opportunities,opportunities-noidx,opportunities-delete-insert] [--now ISO] [--plans]
 * Each variant runs as the runtime role (row-level security on) with the rebuild's settings, in a transaction that is
 * rolled back, followed by a VACUUM of the tables it wrote (so that every run starts from the same pages). Printed per
 * run: wall, the CPU of this database's backends (bench/write/pg-cpu.ts), the rows updated / of them in place (HOT) /
 * inserted / deleted (pg_stat_xact_user_tables), the WAL written, and an md5 over the rows as the statement left them
 * (every column but the opportunities' computed_at and updated_at), so that two checkouts' statements can be compared
 * on copies of one database. Variants:
 * - engagement-floor, opportunities-floor: the floors of `npm run bench:write` (as the owner, counted, nothing written);
 * - engagement: REBUILD_SQL (the engagement rollup's rebuild);
 * - opportunities: CLASSIFY_REPLACE_SQL (the opportunities refresh's statement);
 * - opportunities-noidx: the same with the type and priority indexes dropped first (in the transaction, rolled back);
 * - opportunities-delete-insert: the organization's rows deleted, then the rows found inserted in the list's order.
 * Run it from each checkout (its statements are the checkout's own). Writes nothing.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { patientDaysSql, REBUILD_SQL, stepsSql } from 'src/engagement/engagement-rollup.repository';
import { CLASSIFY_REPLACE_SQL, CLASSIFY_SQL, FACTS_SQL } from 'src/opportunities/opportunities.sql';
import { classifyParams } from './write/classify-params';
import { PgCpuSampler } from './write/pg-cpu';


const OPPORTUNITY_COLUMNS = `patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents,
  success_probability, expected_return_cents, last_contact_at, expected_visit_at`;

void (async () => {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'bench' },
      runs: { type: 'string', default: '1' },
      only: { type: 'string', default: 'engagement,opportunities' },
      now: { type: 'string' },
      plans: { type: 'boolean', default: false },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL');
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  const c = new Client({ connectionString: url, options: '-c timezone=UTC', application_name: 'rebuild-writes-bench' });
  await c.connect();
  const org = (await c.query<{ id: string; timezone: string }>(`SELECT id, timezone FROM organizations WHERE slug = $1`, [values.org])).rows[0];
  const now = new Date(values.now ?? Date.now()).toISOString();
  const { classify } = await classifyParams(c, org.id, now);
  const [{ cutoff_at }] = (
    await c.query<{ cutoff_at: Date }>(`SELECT (($1::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at`, [now, org.timezone])
  ).rows;
  const opportunitiesMd5 = `SELECT md5(string_agg(t::text, '|' ORDER BY t.patient_id)) AS md5, count(*)::int AS n
                              FROM (SELECT ${OPPORTUNITY_COLUMNS} FROM reengagement_opportunities WHERE organization_id = $1) t`;
  const variants: Record<string, { before?: string[]; sql: string | string[]; params: unknown[]; tables: string[]; md5: string[]; owner?: boolean }> = {
    // The floors of `npm run bench:write` (as the table owner, nothing written): the rollup's aggregation counted, and
    // the facts query whole (counted here rather than streamed by COPY).
    'engagement-floor': {
      sql: `SELECT count(*)::int AS steps, coalesce(sum(patients), 0)::int AS patients FROM (${stepsSql(`(${patientDaysSql('')})`, '')}) t`,
      params: [org.id, org.timezone, cutoff_at],
      tables: [],
      md5: [],
      owner: true,
    },
    'opportunities-floor': {
      sql: `SELECT count(f.*) FROM (${FACTS_SQL}) f`,
      params: classify.slice(0, 6),
      tables: [],
      md5: [],
      owner: true,
    },
    engagement: {
      sql: REBUILD_SQL,
      params: [org.id, org.timezone, cutoff_at],
      tables: ['engagement_patient_days', 'engagement_visit_gaps'],
      md5: [
        `SELECT md5(string_agg(t::text, '|' ORDER BY t.patient_id)) AS md5, count(*)::int AS n
           FROM (SELECT patient_id, first_day, days, engagement_score FROM engagement_patient_days WHERE organization_id = $1) t`,
        `SELECT md5(string_agg(t::text, '|' ORDER BY t.day, t.prev)) AS md5, count(*)::int AS n
           FROM (SELECT day, prev, patients, score_sum, scored FROM engagement_visit_gaps WHERE organization_id = $1) t`,
      ],
    },
    opportunities: { sql: CLASSIFY_REPLACE_SQL, params: classify, tables: ['reengagement_opportunities'], md5: [opportunitiesMd5] },
    'opportunities-noidx': {
      before: [
        `DROP INDEX idx_reengagement_opportunities_type_expected_return`,
        `DROP INDEX idx_reengagement_opportunities_priority_expected_return`,
      ],
      sql: CLASSIFY_REPLACE_SQL,
      params: classify,
      tables: ['reengagement_opportunities'],
      md5: [opportunitiesMd5],
    },
    'opportunities-delete-insert': {
      sql: [
        `DELETE FROM reengagement_opportunities WHERE organization_id = $1`,
        `INSERT INTO reengagement_opportunities
           (organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status,
            estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at)
         SELECT $1::uuid, n.*, $2::timestamptz FROM (${CLASSIFY_SQL}) n ORDER BY n.expected_return, n.patient_id`,
      ],
      params: classify,
      tables: ['reengagement_opportunities'],
      md5: [opportunitiesMd5],
    },
  };
  const begin = async (): Promise<void> => {
    await c.query(`BEGIN; SET LOCAL jit = off; SET LOCAL work_mem = '128MB'`);
  };
  const asApp = async (): Promise<void> => {
    await c.query(`SET LOCAL role patient_journey_app`);
    await c.query(`SELECT set_config('app.organization_id', $1, true)`, [org.id]);
  };
  const walLsn = async (): Promise<string> => (await c.query<{ l: string }>(`SELECT pg_current_wal_insert_lsn()::text AS l`)).rows[0].l;
  for (let i = 0; i < Number(values.runs); i++) {
    for (const name of values.only.split(',')) {
      const v = variants[name];
      if (!v) throw new Error(`unknown variant ${name}`);
      await begin();
      for (const s of v.before ?? []) await c.query(s);
      if (!v.owner) await asApp();
      const lsn0 = await walLsn();
      const sampler = new PgCpuSampler(dbName);
      sampler.start(100);
      const t = performance.now();
      for (const sql of [v.sql].flat()) await c.query(sql, sql.includes('$2') ? v.params : v.params.slice(0, 1));
      const ms = performance.now() - t;
      const cpu = sampler.stop();
      const lsn1 = await walLsn();
      const stats = (
        await c.query<{ relname: string; upd: string; hot: string; ins: string; del: string }>(
          `SELECT relname, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_ins AS ins, n_tup_del AS del FROM pg_stat_xact_user_tables
            WHERE relname = ANY($1::text[]) ORDER BY relname`,
          [v.tables],
        )
      ).rows;
      const [{ wal }] = (await c.query<{ wal: string }>(`SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::bigint AS wal`, [lsn0, lsn1])).rows;
      const md5s = [];
      for (const q of v.md5) md5s.push((await c.query<{ md5: string; n: number }>(q, [org.id])).rows[0]);
      await c.query('ROLLBACK');
      console.log(
        `${name}: ${(ms / 1000).toFixed(2)} s, PostgreSQL CPU ${cpu?.toFixed(2)} s, WAL (the whole server's, other sessions' too) ${(Number(wal) / 1e6).toFixed(1)} MB; ` +
          stats.map((s) => `${s.relname} upd ${s.upd} (hot ${s.hot}) ins ${s.ins} del ${s.del}`).join('; ') +
          `; md5 ${md5s.map((m) => `${m.md5} (${m.n})`).join(' ')}`,
      );
      for (const table of v.tables) await c.query(`VACUUM ${table}`);
      if (values.plans && i === 0) {
        await begin();
        for (const s of v.before ?? []) await c.query(s);
        await asApp();
        for (const sql of [v.sql].flat()) {
          const plan = (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${sql}`, sql.includes('$2') ? v.params : v.params.slice(0, 1))).rows;
          console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
        }
        await c.query('ROLLBACK');
        for (const table of v.tables) await c.query(`VACUUM ${table}`);
      }
    }
  }
  await c.end();
})();
