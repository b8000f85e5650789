import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { seedOrganization } from 'src/database/seed/seed';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { recomputeOrganizationWithUrl } from 'src/scoring/recompute';
import { progressReporter } from 'src/common/cli/progress';
import { runCli, CliUsageError } from 'src/common/cli/run-cli';

/**
 * `npm run seed -- --org <slug> [--name <name>] --patients <N> --seed <n> [--no-score]`: generates the clinic, then
 * scores it (as `npm run recompute` would) unless --no-score.
 */
runCli(async () => {
  const { values } = parseArgs({
    options: { org: { type: 'string' }, name: { type: 'string' }, patients: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' }, 'no-score': { type: 'boolean', default: false } },
    strict: true,
  });
  const slug = values.org;
  if (!slug || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) throw new CliUsageError('--org <slug> is required: lower-case letters, digits and dashes');
  const patients = Number(values.patients);
  if (!Number.isInteger(patients) || patients < 0 || patients > 5_000_000) throw new CliUsageError('--patients must be an integer from 0 to 5000000');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new CliUsageError('--seed must be an integer');
  const settings = loadSettings();
  const db = await openDatabase(settings, (l) => process.stderr.write(l + '\n'));
  try {
    await runMigrations(db.url);
    const progress = progressReporter('patients', patients);
    let indexes: ReturnType<typeof progressReporter> | null = null;
    const result = await seedOrganization(db.url, {
      slug,
      name: values.name ?? slug.replace(/(^|-)(\w)/g, (_m, d: string, c: string) => (d ? ' ' : '') + c.toUpperCase()),
      patients,
      seed,
      now: new Date(),
      cipher: createPhiCipher(settings),
      onProgress: (done) => progress.update(done),
      onIndex: (done, total) => {
        if (indexes === null) {
          progress.stop();
          indexes = progressReporter('rebuilding indexes', total);
        }
        indexes.update(done);
      },
    });
    progress.stop();
    (indexes as ReturnType<typeof progressReporter> | null)?.stop();
    process.stdout.write(`Seeded organization "${slug}" (${result.organizationId}) in ${result.seconds.toFixed(1)} s\n`);
    for (const [table, n] of Object.entries(result.rows)) process.stdout.write(`  ${table.padEnd(24)} ${n.toLocaleString('en-US')}\n`);
    if (!values['no-score']) {
      const scoring = progressReporter('scoring', patients);
      const scored = await recomputeOrganizationWithUrl(db.url, result.organizationId, new Date(), { onProgress: (done) => scoring.update(done) });
      scoring.stop();
      process.stdout.write(`Scored ${scored.patients.toLocaleString('en-US')} patients in ${(scored.totalMs / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await db.stop();
  }
});
