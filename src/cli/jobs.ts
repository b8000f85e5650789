import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createAppContext } from 'src/cli/support/app-context';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { InProcessJobQueue } from 'src/jobs/queue/in-process-job-queue';
import { JOB_QUEUE, JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

const TYPES = Object.values(JobType) as string[];
const USAGE = `usage: npm run jobs -- enqueue <${TYPES.join('|')}> [--org <slug>] | npm run jobs -- list --org <slug>`;

/**
 * `npm run jobs -- enqueue <type> [--org <slug>]`: puts a job in the queue by hand (`nightly-recompute` without
 * `--org`: every organization); with REDIS_URL a worker or an API instance takes it, without Redis this command runs
 * it itself and waits. `npm run jobs -- list --org <slug>`: the organization's recent runs.
 */
runCli(async () => {
  const { values, positionals } = parseArgs({ options: { org: { type: 'string' } }, allowPositionals: true, strict: true });
  const [command, type] = positionals;
  if (command !== 'enqueue' && command !== 'list') throw new CliUsageError(USAGE);
  if (command === 'enqueue' && (!type || !TYPES.includes(type))) throw new CliUsageError(USAGE);
  if ((command === 'list' || type !== JobType.NightlyRecompute) && !values.org) throw new CliUsageError(`--org <slug> is required. ${USAGE}`);
  // With Redis this process only enqueues; without it, it runs what it enqueues (its own in-process queue).
  const base = loadSettings();
  const settings = loadSettings({ ...process.env, PROCESS_ROLE: base.redisUrl ? 'api' : 'all' });
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const db = await openDatabase(settings, say);
  await runMigrations(db.url);
  const context = await createAppContext(settings, db.url);
  try {
    await context.init();
    const jobs = context.get(JobService);
    const organizations = new OrganizationsRepository();
    const crossTenant = context.get(CrossTenantDb);
    const targets = values.org ? [await organizations.bySlug(crossTenant, values.org)] : await organizations.all(crossTenant);
    if (targets.some((o) => o === null)) throw new CliUsageError(`No organization with slug "${values.org}"`);
    for (const org of targets) {
      if (!org) continue;
      if (command === 'list') {
        for (const r of await jobs.list(org.id, 20)) {
          process.stdout.write(`${r.queuedAt.toISOString()}  ${r.type.padEnd(22)} ${r.status.padEnd(9)} attempts ${r.attempts}  ${r.id}${r.error ? `  ${r.error}` : ''}\n`);
        }
        continue;
      }
      const run = await jobs.enqueue(type, org.id, {}, {});
      process.stdout.write(`${org.slug}: ${type} ${run?.id ?? '(already queued)'}\n`);
    }
    const queue = context.get(JOB_QUEUE);
    if (queue instanceof InProcessJobQueue) {
      say('No REDIS_URL: running the jobs in this process...');
      await queue.idle();
    }
  } finally {
    await context.close();
    await db.stop();
  }
});
