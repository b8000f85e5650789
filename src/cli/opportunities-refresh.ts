import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { SystemClock } from 'src/common/clock/clock';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { Database } from 'src/database/database';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
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
  const database = new Database({ url: db.url, poolSize: 2, applicationName: 'opportunities-refresh' });
  try {
    const organization = await new OrganizationsRepository().bySlug(database.crossTenant, values.org);
    if (!organization) throw new CliUsageError(`No organization with slug "${values.org}"`);
    const refresher = new OpportunitiesRefresher(database.tenants, new OpportunitiesRepository(), new SystemClock(), undefined, undefined, database);
    const r = await refresher.refresh(organization.id);
    process.stdout.write(
      `Found ${r.opportunities.toLocaleString('en-US')} opportunities in "${values.org}" in ${(r.durationMs / 1000).toFixed(1)} s ` +
        `(top-quartile LTV threshold ${(r.ltvThresholdCents / 100).toFixed(2)})\n`,
    );
  } finally {
    await database.close();
    await db.stop();
  }
});
