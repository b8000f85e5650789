/**
 * EXPLAIN (ANALYZE, BUFFERS) of one organization-wide recompute chunk's features statement, as the recompute runs it
 * (SET LOCAL enable_nestloop = off, no parallel workers, referredNet false, work_mem 64MB, jit off):
 * `DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/features-explain.ts
 *   --org <slug> [--chunk 50000] [--index 1] [--as-of <ISO time>] [--runs 3] [--plain] [--kept]`
 * Prints the plan of the last run and each run's execution time; --plain runs the statement without EXPLAIN and
 * reports the time including the transfer of the rows to Node; --kept the kept features' read instead (keptFeaturesQuery).
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { connectionConfig } from 'src/database/database';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { featuresQuery } from 'src/scoring/features/features.sql';
import { keptFeaturesQuery } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { idRanges } from 'src/scoring/recompute/chunking';
import { processCpuMs as backendCpuMs } from './process-cpu';

const { values } = parseArgs({
  options: {
    org: { type: 'string' },
    chunk: { type: 'string', default: '50000' },
    index: { type: 'string', default: '1' },
    'as-of': { type: 'string' },
    runs: { type: 'string', default: '3' },
    plain: { type: 'boolean', default: false },
    kept: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  // As the recompute reads: the organization's own connection, as the runtime role (row-level security).
  const url = process.env.DATABASE_URL ?? '';
  const lookup = new Client({ connectionString: url });
  await lookup.connect();
  const organization = await new OrganizationsRepository().bySlug({ query: async (sql, params) => (await lookup.query(sql, params as unknown[])).rows }, values.org ?? '').finally(() => lookup.end());
  if (!organization) throw new Error(`No organization ${values.org}`);
  const tenant = await BatchTenantConnection.open(connectionConfig(url, { applicationName: 'features-explain' }), organization.id);
  try {
    await tenant.query(`SET jit = off; SET work_mem = '64MB'`);
    const settings = organizationScoringSettings(organization.settings);
    const now = values['as-of'] ? new Date(values['as-of']) : new Date();
    const ranges = idRanges((await new FeaturesRepository().chunkBoundaries(tenant, Number(values.chunk))).ids);
    const range = ranges[Math.min(Number(values.index), ranges.length - 1)];
    const pid = (await tenant.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const client = { query: async <T>(sql: string, params?: unknown[]) => ({ rows: await tenant.query<T>(sql, params), rowCount: 0 }) };
    // --kept: the kept features' read (rolled forward, keptFeaturesQuery), as a small organization's nightly run reads them.
    const q = values.kept
      ? keptFeaturesQuery(organization.id, { kind: 'range', ...range }, now, settings, organization.timezone)
      : featuresQuery(organization.id, { kind: 'range', ...range }, now, settings, organization.timezone, { referredNet: false });
    for (let run = 0; run < Number(values.runs); run++) {
      await client.query('BEGIN');
      await client.query(`SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0`);
      const started = process.hrtime.bigint();
      const cpu = backendCpuMs(pid);
      if (values.plain) {
        const r = await client.query(q.sql, q.params);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        process.stdout.write(`run ${run + 1}: ${r.rows.length} rows in ${ms.toFixed(0)} ms, backend CPU ${backendCpuMs(pid) - cpu} ms\n`);
      } else {
        const r = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS${process.env.EXPLAIN_VERBOSE ? ", VERBOSE" : ""}) ${q.sql}`, q.params);
        const plan = r.rows.map((x) => x['QUERY PLAN']);
        if (run === Number(values.runs) - 1) process.stdout.write(plan.join('\n') + '\n');
        const time = plan.find((l) => l.startsWith('Execution Time')) ?? '';
        process.stdout.write(`run ${run + 1}: ${time}, backend CPU ${backendCpuMs(pid) - cpu} ms\n`);
      }
      await client.query('ROLLBACK');
    }
  } finally {
    await tenant.end();
  }
}

void main();
