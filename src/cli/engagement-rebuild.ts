import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { SystemClock } from 'src/common/clock/clock';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { TenantDb } from 'src/common/database/tenant-db';
import { loadSettings } from 'src/config/settings';
import { dataSourceOptions } from 'src/database/data-source-options';
import { openDatabase } from 'src/database/open-database';
import { EngagementRepository } from 'src/engagement/engagement.repository';
import { EngagementRollupRepository } from 'src/engagement/engagement-rollup.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';

/**
 * `node scripts/cli.js cli/engagement-rebuild --org <slug>`: builds the organization's engagement rollup (as the
 * runtime role, under row-level security) and prints its size and time. The app builds it by itself on the first
 * overview and after every organization-wide recompute; this is for a clinic scored by `npm run recompute` or
 * `npm run seed` (another process: the app hears no event) and for benchmarks.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { org: { type: 'string' } }, strict: true });
  if (!values.org) throw new CliUsageError('--org <slug> is required');
  const settings = loadSettings();
  const db = await openDatabase(settings, (line) => process.stderr.write(`${line}\n`));
  const dataSource = new DataSource(dataSourceOptions({ url: db.url, asRuntimeRole: true, poolSize: 2, applicationName: 'engagement-rebuild' }));
  try {
    await dataSource.initialize();
    const rows = await dataSource.query<{ id: string }[]>(`SELECT id FROM organizations WHERE slug = $1`, [values.org]);
    if (!rows[0]) throw new CliUsageError(`No organization with slug "${values.org}"`);
    const tenantDb = new TenantDb(dataSource);
    const service = new EngagementRollupService(new EngagementRollupRepository(tenantDb), new EngagementRepository(tenantDb), new SystemClock());
    const r = await service.rebuild(rows[0].id);
    process.stdout.write(
      `Engagement rollup of "${values.org}" (${r.timezone}, cutoff ${r.cutoff}): ${r.patients.toLocaleString('en-US')} patients, ` +
        `${r.steps.toLocaleString('en-US')} steps in ${(r.durationMs / 1000).toFixed(1)} s\n`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await db.stop();
  }
});
