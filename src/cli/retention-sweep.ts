import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAsOf } from 'src/cli/as-of';
import { withOrganizationContext } from 'src/cli/support/app-context';
import { progressReporter } from 'src/cli/support/progress';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { RetentionSweep } from 'src/privacy/retention/retention-sweep';

/**
 * `npm run retention:sweep -- --org <slug> [--as-of <ISO>] [--dry-run]`: the organization's retention sweep now
 * (docs/privacy.md, "Retention"), as the nightly job runs it: patients inactive past the policy erased (basis
 * `retention`, legal holds skipped), audit months past `audit_years` archived to an encrypted file and retired. A
 * progress bar on stderr; the report (ids and counts, no PHI) as JSON on stdout. `--dry-run` changes nothing and
 * reports what would go.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { org: { type: 'string' }, 'as-of': { type: 'string' }, 'dry-run': { type: 'boolean' } },
    strict: true,
  });
  if (!values.org) throw new CliUsageError('usage: npm run retention:sweep -- --org <slug> [--as-of <ISO>] [--dry-run]');
  const asOf = parseAsOf(values['as-of'], new Date());
  await withOrganizationContext(values.org, async (context, organization) => {
    const bar = progressReporter(values['dry-run'] ? 'Retention sweep (dry run)' : 'Retention sweep', 100);
    const report = await context.get(RetentionSweep).run(organization.id, {
      asOf,
      dryRun: values['dry-run'] === true,
      progress: (f) => {
        bar.update(Math.round(f * 100));
        return Promise.resolve();
      },
    });
    bar.stop();
    writeSync(1, JSON.stringify(report, null, 2) + '\n');
    const verb = report.dry_run ? 'would go' : 'went';
    process.stderr.write(
      `Retention sweep of "${values.org}" as of ${report.as_of}: ${report.patients.erased} patient(s) ${verb} ` +
        `(${report.patients.held} held), ${report.audit.events} audit event(s) ${verb}${report.audit.months.length ? ` (${report.audit.months[0]} to ${report.audit.months[report.audit.months.length - 1]})` : ''}\n`,
    );
  });
});
