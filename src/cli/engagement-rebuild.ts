import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { SystemClock } from 'src/common/clock/clock';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { Database } from 'src/database/database';
import { openDatabase } from 'src/database/open-database';
import { EngagementRollupRepository } from 'src/engagement/engagement-rollup.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

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
  const database = new Database({ url: db.url, poolSize: 2, applicationName: 'engagement-rebuild' });
  try {
    const organizations = new OrganizationsRepository();
    const organization = await organizations.bySlug(database.crossTenant, values.org);
    if (!organization) throw new CliUsageError(`No organization with slug "${values.org}"`);
    const service = new EngagementRollupService(database.tenants, new EngagementRollupRepository(), organizations, new SystemClock(), undefined, undefined, database);
    const r = await service.rebuild(organization.id);
    process.stdout.write(
      `Engagement rollup of "${values.org}" (${r.timezone}, cutoff ${r.cutoff}): ${r.patients.toLocaleString('en-US')} patients, ` +
        `${r.steps.toLocaleString('en-US')} steps in ${(r.durationMs / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await database.close();
    await db.stop();
  }
});
