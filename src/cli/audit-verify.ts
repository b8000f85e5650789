import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyOrganizationBySlug } from 'src/audit/trail/chain-verification';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { openDatabase } from 'src/database/open-database';

/**
 * `npm run audit:verify -- --org <slug>`: recomputes the organization's audit hash chain and prints
 * `{ organization_id, valid, events_checked, first_broken }` as JSON (read as the runtime role, in one snapshot). Exit code 0 when the chain is intact,
 * 1 when it is broken (for cron and monitoring), 2 on bad arguments.
 */
runCli(async () => {
  const { values } = parseArgs({ options: { org: { type: 'string' } }, strict: true });
  const slug = values.org;
  if (!slug) throw new CliUsageError('usage: npm run audit:verify -- --org <slug>');
  const settings = loadSettings();
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  let valid: boolean;
  try {
    const result = await verifyOrganizationBySlug(db.url, slug);
    if (result === null) throw new CliUsageError(`No organization has the slug "${slug}"`);
    writeSync(1, JSON.stringify(result, null, 2) + '\n');
    const b = result.first_broken;
    process.stderr.write(
      result.valid
        ? `Audit chain of "${slug}" intact: ${result.events_checked} events checked\n`
        : `Audit chain of "${slug}" BROKEN at event ${b?.id ?? '(end of chain)'} (sequence ${b?.sequence}): ${b?.reason}\n`,
    );
    valid = result.valid;
  } finally {
    await db.stop();
  }
  if (!valid) process.exit(1);
});
