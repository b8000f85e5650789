/**
 * Where the organization-wide opportunities refresh spends PostgreSQL's CPU over its floor (issue #23):
 *   DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/opportunities-refresh-explain.ts \
 *     [--org bench] [--runs 1] [--only floor,facts,classify,replace,swap] [--plans] [--commit] [--now <ISO time>]
 * Runs, one after the other on one connection, each with the rebuild's settings (no JIT, work_mem 64MB):
 * - floor: FACTS_SQL whole as the table owner (no row-level security), as `npm run bench:write`'s floor reads it (here
 *   counted rather than streamed by COPY);
 * - facts: the same statement as the runtime role, row-level security on (the job's reads);
 * - classify: CLASSIFY_SQL (the facts classified by the rules in SQL), counted, as the runtime role;
 * - replace: CLASSIFY_REPLACE_SQL (the job's statement: classified, upserted, the rows left over deleted) as the
 *   runtime role, rolled back unless --commit;
 * - swap: a large organization's build and swap before its swap (classifyBuildSql into a fresh table as the runtime
 *   role, ANALYZE, the four indexes, the patient foreign key's check as a join), each phase's CPU printed, rolled back.
 * Each is timed (wall, and the CPU of this database's backends from /proc: bench/write/pg-cpu.ts) `--runs` times;
 * `--plans` also prints its EXPLAIN (ANALYZE, BUFFERS, WAL), itself rolled back. Writes nothing unless --commit.
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { CLASSIFY_REPLACE_SQL, CLASSIFY_SQL, classifyBuildSql, FACTS_SQL } from 'src/opportunities/opportunities.sql';
import { classifyParams } from './write/classify-params';
import { PgCpuSampler } from './write/pg-cpu';


void (async () => {
  const { values } = parseArgs({
    options: {
      org: { type: 'string', default: 'bench' },
      runs: { type: 'string', default: '1' },
      only: { type: 'string', default: 'floor,facts,classify,replace' },
      plans: { type: 'boolean', default: false },
      commit: { type: 'boolean', default: false },
      now: { type: 'string' },
    },
  });
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL');
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  const c = new Client({ connectionString: url, options: '-c timezone=UTC', application_name: 'opportunities-refresh-explain' });
  await c.connect();
  const org = (await c.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows[0];
  const now = new Date(values.now ?? Date.now()).toISOString();
  const { facts, classify } = await classifyParams(c, org.id, now);
  const variants: Record<string, { sql: string; params: unknown[]; owner: boolean; write: boolean }> = {
    floor: { sql: `SELECT count(f.*) FROM (${FACTS_SQL}) f`, params: facts, owner: true, write: false },
    facts: { sql: `SELECT count(f.*) FROM (${FACTS_SQL}) f`, params: facts, owner: false, write: false },
    classify: { sql: `SELECT count(c.*) FROM (${CLASSIFY_SQL}) c`, params: classify, owner: false, write: false },
    replace: { sql: CLASSIFY_REPLACE_SQL, params: classify, owner: false, write: true },
  };
  const begin = async (owner: boolean): Promise<void> => {
    await c.query(`BEGIN; SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
    if (!owner) {
      await c.query(`SET LOCAL role patient_journey_app`);
      await c.query(`SELECT set_config('app.organization_id', $1, true)`, [org.id]);
    }
  };
  // swap: the bulk build of the organization's rows into a fresh table (as the runtime role), its indexes built,
  // the foreign keys checked by a join and the table analyzed (as the owner), all rolled back: what a build and
  // swap would cost before its swap.
  const swap = async (explain = false): Promise<unknown> => {
    // Each phase's CPU of the backends, printed after the run.
    const phases: string[] = [];
    const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const sampler = new PgCpuSampler(dbName);
      sampler.start(50);
      const result = await work();
      phases.push(`${name} ${sampler.stop()?.toFixed(2)}`);
      return result;
    };
    await c.query(`BEGIN; SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL maintenance_work_mem = '256MB'`);
    await c.query(`CREATE TABLE ro_swap_fresh (LIKE reengagement_opportunities INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await c.query(`GRANT INSERT ON ro_swap_fresh TO patient_journey_app`);
    await c.query(`SET LOCAL role patient_journey_app`);
    await c.query(`SELECT set_config('app.organization_id', $1, true)`, [org.id]);
    const build = `${explain ? 'EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE) ' : ''}${classifyBuildSql('ro_swap_fresh')}`;
    const rows = (await phase('build', () => c.query(build, classify))).rows;
    if (explain) return rows;
    await c.query(`RESET role`);
    await phase('analyze', () => c.query(`ANALYZE ro_swap_fresh`)); // as the refresh: no VACUUM
    for (const [name, def] of [
      ['pkey', `UNIQUE INDEX ON ro_swap_fresh (organization_id, patient_id)`],
      ['priority', `INDEX ON ro_swap_fresh (organization_id, priority, expected_return_cents, patient_id)`],
      ['type', `INDEX ON ro_swap_fresh (organization_id, opportunity_type, expected_return_cents, patient_id)`],
      ['expected_return', `INDEX ON ro_swap_fresh (organization_id, expected_return_cents, patient_id)`],
    ])
      await phase(name, () => c.query(`CREATE ${def}`));
    await phase('fk join', () =>
      c.query(`SELECT count(*) FROM ro_swap_fresh f LEFT JOIN patients p ON p.organization_id = f.organization_id AND p.id = f.patient_id WHERE p.id IS NULL`),
    );
    console.log(`  phases (PostgreSQL CPU s): ${phases.join(', ')}`);
    return rows;
  };
  for (const name of values.only.split(',')) {
    if (name === 'swap') {
      for (let i = 0; i < Number(values.runs); i++) {
        const sampler = new PgCpuSampler(dbName);
        sampler.start(100);
        const t = performance.now();
        const rows = await swap();
        const ms = performance.now() - t;
        const cpu = sampler.stop();
        await c.query('ROLLBACK');
        console.log(`${name}: ${(ms / 1000).toFixed(2)} s, PostgreSQL CPU ${cpu?.toFixed(2)} s, ${JSON.stringify(rows).slice(0, 300)}`);
      }
      if (values.plans) {
        const plan = (await swap(true)) as { 'QUERY PLAN': string }[];
        await c.query('ROLLBACK');
        console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
      }
      continue;
    }
    const v = variants[name];
    if (!v) throw new Error(`unknown variant ${name}`);
    for (let i = 0; i < Number(values.runs); i++) {
      await begin(v.owner);
      const sampler = new PgCpuSampler(dbName);
      sampler.start(100);
      const t = performance.now();
      const rows = (await c.query(v.sql, v.params)).rows;
      const ms = performance.now() - t;
      const cpu = sampler.stop();
      await c.query(v.write && values.commit ? 'COMMIT' : 'ROLLBACK');
      console.log(`${name}: ${(ms / 1000).toFixed(2)} s, PostgreSQL CPU ${cpu?.toFixed(2)} s, ${JSON.stringify(rows).slice(0, 300)}`);
    }
    if (values.plans) {
      await begin(v.owner);
      const plan = (await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL, VERBOSE) ${v.sql}`, v.params)).rows;
      await c.query('ROLLBACK');
      console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
    }
  }
  await c.end();
})();
