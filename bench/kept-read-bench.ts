/**
 * The kept features read of small clinics, as their nightly run reads them: on one connection of the runtime role
 * reused from clinic to clinic (rebind, statements prepared: after five clinics the generic plan), in readChunk's
 * transaction settings, as of a day after each clinic's last run (a next-day night) unless --days-after says
 * otherwise. Per read: the backend's CPU (its /proc schedstat, to the nanosecond) and this process's (receiving and
 * parsing the rows, building the FeatureRows). Nothing is written (each read is rolled back).
 *
 * `DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/kept-read-bench.ts
 *    [--orgs 200] [--rounds 3] [--days-after 1] [--digest] [--explain clinic-00042]`
 * Run from a tree's folder (cwd) to measure that tree's read (its src/ resolves through its tsconfig): the same
 * bench file from either tree. --digest prints an md5 of every row read (every value, in order) and of the unkept
 * ids: two trees whose reads agree print the same. --explain: EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of the statement's
 * generic plan for that clinic (prepared with SQL's PREPARE, force_generic_plan), after the rounds.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { connectionConfig } from 'src/database/database';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { inlineParams } from 'src/database/tenant/sql-literal';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { keptFeaturesQuery } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { processThreadsCpuMs } from './process-cpu';

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    'days-after': { type: 'string', default: '1' },
    digest: { type: 'boolean', default: false },
    explain: { type: 'string' },
  },
});

interface Org {
  id: string;
  slug: string;
  timezone: string;
  settings: Record<string, unknown>;
  last: Date;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? '';
  const owner = new Client({ connectionString: url });
  await owner.connect();
  const orgs = (
    await owner.query<Org>(
      `SELECT o.id, o.slug, o.timezone, o.settings, m.last FROM organizations o
         CROSS JOIN LATERAL (SELECT max(computed_at) AS last FROM patient_metrics WHERE organization_id = o.id) m
        WHERE m.last IS NOT NULL ORDER BY o.slug LIMIT $1`,
      [Number(values.orgs)],
    )
  ).rows;
  const days = Number(values['days-after']);
  const repo = new FeaturesRepository();
  const config = connectionConfig(url, { applicationName: 'kept-read-bench' });
  let conn = await BatchTenantConnection.open(config, orgs[0].id);
  await conn.query(`SET jit = off; SET synchronous_commit = off; SET work_mem = '64MB'; SET temp_buffers = '64MB'`);
  const pid = (await conn.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
  const digest = createHash('md5');
  let rowsRead = 0;
  let unkeptRead = 0;
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      const backend: number[] = [];
      const node: number[] = [];
      const wall: number[] = [];
      for (const org of orgs) {
        conn = await conn.rebind(org.id);
        conn.prepareStatements();
        const now = new Date(new Date(org.last).getTime() + days * 86_400_000);
        const settings = organizationScoringSettings(org.settings);
        await conn.query(`BEGIN; SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0`);
        const b0 = processThreadsCpuMs(pid);
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        // As readChunk reads a small organization (main's tree ignores the last argument: its three lookups).
        const kept = await repo.keptFeatures(conn, { kind: 'range', from: null, to: null }, now, settings, org.timezone, 'window');
        const t1 = process.hrtime.bigint();
        const c1 = process.cpuUsage(c0);
        const b1 = processThreadsCpuMs(pid);
        await conn.query('ROLLBACK');
        backend.push(b1 - b0);
        node.push((c1.user + c1.system) / 1000);
        wall.push(Number(t1 - t0) / 1e6);
        if (round === 0) {
          rowsRead += kept.rows.length;
          unkeptRead += kept.unkept.length;
          if (values.digest) {
            digest.update(`${org.slug}\n`);
            // In patient order: the statement's own row order is its plan's.
            const rows = [...kept.rows].sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
            for (const r of rows) digest.update(JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' ? Object.is(v, -0) ? '-0' : String(v) : v)) + '\n');
            digest.update(`unkept ${[...kept.unkept].sort().join(',')}\n`);
          }
        }
      }
      process.stdout.write(
        `round ${round + 1}: ${orgs.length} clinics, per read: backend CPU median ${median(backend).toFixed(3)} mean ${mean(backend).toFixed(3)} ms; ` +
          `this process median ${median(node).toFixed(3)} mean ${mean(node).toFixed(3)} ms; wall median ${median(wall).toFixed(2)} ms\n`,
      );
    }
    process.stdout.write(`rows kept ${rowsRead}, unkept ${unkeptRead} (first round)\n`);
    if (values.digest) process.stdout.write(`digest ${digest.digest('hex')}\n`);
    if (values.explain) {
      const org = orgs.find((o) => o.slug === values.explain);
      if (!org) throw new Error(`${values.explain} is not among the clinics read`);
      conn = await conn.rebind(org.id);
      const now = new Date(new Date(org.last).getTime() + days * 86_400_000);
      const q = keptFeaturesQuery(org.id, { kind: 'range', from: null, to: null }, now, organizationScoringSettings(org.settings), org.timezone, 'window');
      const args = inlineParams(q.params.map((_, i) => `$${i + 1}`).join(', '), q.params);
      await conn.query(`BEGIN; SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL plan_cache_mode = force_generic_plan`);
      await conn.query(`PREPARE kept_explain AS ${q.sql}`);
      for (let i = 0; i < 3; i++) await conn.query(`EXECUTE kept_explain(${args})`);
      const plan = await conn.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, VERBOSE) EXECUTE kept_explain(${args})`);
      process.stdout.write(plan.map((r) => r['QUERY PLAN']).join('\n') + '\n');
      await conn.query('ROLLBACK; DEALLOCATE kept_explain');
    }
  } finally {
    await conn.end();
    await owner.end();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? err.stack : err)}\n`);
  process.exit(1);
});
