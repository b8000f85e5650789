import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { progressReporter } from 'src/cli/support/progress';
import { SystemClock } from 'src/common/clock/clock';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { openDatabase } from 'src/database/open-database';
import { Database } from 'src/database/database';
import { describeFit } from 'src/scoring/recompute/organization-context';
import { recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { parseAsOf } from 'src/cli/as-of';

/**
 * `npm run recompute -- --org <slug> [--chunk <patients>] [--keep-fit] [--analyze-only] [--as-of <ISO time>]
 * [--write auto|rebuild|update] [--fresh-features]`: refits
 * the organization's CLV models and recomputes every patient's metrics, with a progress bar on stderr; prints the
 * patient count and the time. `--as-of` scores as of another instant (e.g. tomorrow: the nightly case, for a
 * benchmark or a check of time-based statuses). Ends with a VACUUM (ANALYZE) of the scoring tables, or with `--analyze-only` an ANALYZE (see
 * vacuumScoringTables; `--vacuum`, the default, is still accepted). `--write`: how the metrics are written (rebuild
 * and swap of the organization's partition, or the update path; auto: rebuild from REBUILD_MIN_PATIENTS patients).
 * Each patient's features kept by the last run are rolled forward where still exact, and only the others read from
 * the records; `--fresh-features` reads them all.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      chunk: { type: 'string' },
      'keep-fit': { type: 'boolean', default: false },
      vacuum: { type: 'boolean', default: false },
      'analyze-only': { type: 'boolean', default: false },
      'as-of': { type: 'string' },
      'fresh-features': { type: 'boolean', default: false },
      write: { type: 'string', default: 'auto' },
    },
    strict: true,
  });
  if (!values.org) throw new CliUsageError('--org <slug> is required');
  const chunkSize = values.chunk === undefined ? undefined : Number(values.chunk);
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize >= 100 && chunkSize <= 1_000_000)) {
    throw new CliUsageError('--chunk must be an integer from 100 to 1000000');
  }
  const write = values.write;
  if (write !== 'auto' && write !== 'rebuild' && write !== 'update') throw new CliUsageError('--write must be auto, rebuild or update');
  const asOf = parseAsOf(values['as-of'], new SystemClock().now());
  const settings = loadSettings();
  const db = await openDatabase(settings, (line) => process.stderr.write(`${line}\n`));
  const database = new Database({ url: db.url, poolSize: 1, applicationName: 'patient-journey-recompute-cli' });
  try {
    const repos = new ScoringRepositories();
    const organization = await repos.organizations.bySlug(database.crossTenant, values.org);
    if (!organization) throw new CliUsageError(`No organization with slug "${values.org}"`);
    let progress: ReturnType<typeof progressReporter> | null = null;
    const result = await recomputeOrganization(database, repos, organization.id, asOf, {
      chunkSize,
      refit: !values['keep-fit'],
      vacuum: values['analyze-only'] ? 'analyze' : true,
      reuseFeatures: !values['fresh-features'],
      write,
      onProgress: (done, total) => {
        progress ??= progressReporter('patients', total);
        progress.update(done);
      },
    });
    (progress as ReturnType<typeof progressReporter> | null)?.stop();
    const seconds = result.totalMs / 1000;
    process.stdout.write(
      `Recomputed ${result.patients.toLocaleString('en-US')} patients of "${organization.slug}" in ${seconds.toFixed(1)} s ` +
        `(model fit ${(result.fitMs / 1000).toFixed(1)} s, ${Math.round(result.patients / Math.max(seconds, 0.001)).toLocaleString('en-US')} patients/s)\n`,
    );
    const p = result.phases;
    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    process.stdout.write(
      `  reads ${s(p.readMs)} (waited for ${s(p.waitMs)}), scoring ${s(p.scoreMs)}, writes ${s(p.writeMs)}` +
        (p.rebuildMs === undefined ? '' : ` (of which rebuild and swap ${s(p.rebuildMs)}, ${p.takenOver ?? 0} patients taken over, the swap's locks held ${p.swapMs ?? 0} ms)`) +
        `, ${values['analyze-only'] ? 'analyze' : 'vacuum'} ${s(p.vacuumMs)}\n`,
    );
    const n = result.featuresKept;
    process.stdout.write(`  features: ${n.toLocaleString('en-US')} kept and rolled forward, ${(result.patients - n).toLocaleString('en-US')} read from the records\n`);
    if (result.fit) process.stdout.write(`  fit: ${describeFit(result.fit)}\n`);
  } finally {
    await database.close();
    await db.stop();
  }
});
