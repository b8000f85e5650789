/**
 * Where a next-day recompute chunk's PostgreSQL time goes (issue #23): EXPLAIN (ANALYZE, BUFFERS) of the chunk's two
 * reads as readChunk runs them (the kept features rolled forward over the id range, then the features of the
 * patients whose kept row cannot be used, read afresh by ids and kept), each in a transaction rolled back, with the
 * backend's CPU time: `DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register
 * bench/recompute-explain.ts --org <slug> --as-of <ISO time> [--chunk 50000] [--index 1] [--plans]`
 * (as of the day after the organization's last run: the kept rows are then as a next-day run finds them).
 */
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { connectionConfig } from 'src/database/database';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { featuresQuery } from 'src/scoring/features/features.sql';
import { keptFeaturesKey, keptFeaturesQuery } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { idRanges } from 'src/scoring/recompute/chunking';
import { processCpuMs as backendCpuMs } from './process-cpu';

const { values } = parseArgs({
  options: {
    org: { type: 'string' },
    chunk: { type: 'string', default: '50000' },
    index: { type: 'string', default: '1' },
    'as-of': { type: 'string' },
    plans: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? '';
  const lookup = new Client({ connectionString: url });
  await lookup.connect();
  const organization = await new OrganizationsRepository()
    .bySlug({ query: async (sql, params) => (await lookup.query(sql, params as unknown[])).rows }, values.org ?? '')
    .finally(() => lookup.end());
  if (!organization || !values['as-of']) throw new Error('usage: recompute-explain.ts --org <slug> --as-of <ISO time>');
  const tenant = await BatchTenantConnection.open(connectionConfig(url, { applicationName: 'recompute-explain' }), organization.id);
  try {
    await tenant.query(`SET jit = off; SET work_mem = '64MB'; SET temp_buffers = '64MB'`);
    const settings = organizationScoringSettings(organization.settings);
    const now = new Date(values['as-of']);
    const repo = new FeaturesRepository();
    const ranges = idRanges((await repo.chunkBoundaries(tenant, Number(values.chunk))).ids);
    const range = { kind: 'range' as const, ...ranges[Math.min(Number(values.index), ranges.length - 1)] };
    const pid = (await tenant.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const explain = async (label: string, sql: string, params: unknown[], extra = ''): Promise<void> => {
      await tenant.query('BEGIN');
      await tenant.query(`SET LOCAL enable_nestloop = off; SET LOCAL max_parallel_workers_per_gather = 0${extra}`);
      const cpu = backendCpuMs(pid);
      const plan = (await tenant.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).map((x) => x['QUERY PLAN']);
      const used = backendCpuMs(pid) - cpu;
      await tenant.query('ROLLBACK');
      if (values.plans) process.stdout.write(`--- ${label}\n${plan.join('\n')}\n`);
      process.stdout.write(`${label}: ${plan.find((l) => l.startsWith('Execution Time')) ?? ''}, backend CPU ${used} ms\n`);
    };
    const kq = keptFeaturesQuery(organization.id, range, now, settings, organization.timezone);
    await explain('kept features (range)', kq.sql, kq.params);
    await tenant.query('BEGIN');
    const kept = await repo.keptFeatures(tenant, range, now, settings, organization.timezone);
    await tenant.query('ROLLBACK');
    process.stdout.write(`  ${kept.rows.length} kept, ${kept.unkept.length} to read afresh\n`);
    if (kept.unkept.length > 0) {
      const fq = featuresQuery(organization.id, { kind: 'ids', ids: kept.unkept }, now, settings, organization.timezone, {
        referredNet: false,
        hasMetrics: true,
        keep: { settingsKey: keptFeaturesKey(settings) },
      });
      await explain('unkept features (ids, kept)', fq.sql, fq.params, '; SET LOCAL enable_seqscan = off');
    }
  } finally {
    await tenant.end();
  }
}

void main();
