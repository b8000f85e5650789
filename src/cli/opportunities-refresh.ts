import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { SystemClock } from 'src/common/clock/clock';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { TenantDb } from 'src/common/database/tenant-db';
import { loadSettings } from 'src/config/settings';
import { dataSourceOptions } from 'src/database/data-source-options';
import { openDatabase } from 'src/database/open-database';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';

/**
 * `node scripts/cli.js cli/opportunities-refresh --org <slug>`: rebuilds the organization's reengagement
 * opportunities (as the runtime role, under row-level security) and prints how many were found and the time.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { org: { type: 'string' } }, strict: true });
  if (!values.org) throw new CliUsageError('--org <slug> is required');
  const settings = loadSettings();
  const db = await openDatabase(settings, (line) => process.stderr.write(`${line}\n`));
  const dataSource = new DataSource(
    dataSourceOptions({ url: db.url, asRuntimeRole: true, poolSize: 2, applicationName: 'opportunities-refresh' }),
  );
  try {
    await dataSource.initialize();
    const rows = await dataSource.query<{ id: string }[]>(`SELECT id FROM organizations WHERE slug = $1`, [values.org]);
    if (!rows[0]) throw new CliUsageError(`No organization with slug "${values.org}"`);
    const refresher = new OpportunitiesRefresher(new OpportunitiesRepository(new TenantDb(dataSource)), new SystemClock());
    const r = await refresher.refresh(rows[0].id);
    process.stdout.write(
      `Found ${r.opportunities.toLocaleString('en-US')} opportunities in "${values.org}" in ${(r.durationMs / 1000).toFixed(1)} s ` +
        `(top-quartile LTV threshold ${(r.ltvThresholdCents / 100).toFixed(2)})\n`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await db.stop();
  }
});
