import 'reflect-metadata';
import { createAppContext } from 'src/cli/support/app-context';
import { CliUsageError, runCli } from 'src/cli/support/run-cli';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase } from 'src/database/open-database';
import { JobService } from 'src/jobs/job.service';
import { checkMasterKey } from 'src/records/phi/master-key-check';

/**
 * `npm run worker`: a process that only runs background jobs (PROCESS_ROLE=worker): the queue's jobs, `JOB_CONCURRENCY`
 * at once, and the nightly scheduler's tick. Needs REDIS_URL: without Redis, `npm start` runs the jobs itself.
 * SIGTERM or SIGINT: stops taking jobs, lets the running ones reach a safe point, and exits.
 */
runCli(async () => {
  const settings = loadSettings({ ...process.env, PROCESS_ROLE: 'worker' });
  if (!settings.redisUrl) throw new CliUsageError('npm run worker needs REDIS_URL (the queue the API instances and workers share); without Redis, npm start runs the jobs itself');
  const say = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const db = await openDatabase(settings, say);
  await runMigrations(db.url);
  await checkMasterKey(db, settings).catch(async (err: unknown) => {
    await db.stop();
    throw err;
  });
  const context = await createAppContext(settings, db.url);
  await context.init();
  const jobs = context.get(JobService);
  say(`Worker ${jobs.workerName} running jobs (concurrency ${settings.jobs.concurrency}); stop with Ctrl+C`);
  await new Promise<void>((resolve) => {
    // `on`: a second signal (Ctrl+C reaches npm, scripts/cli.js and this process) must not kill it mid-stop.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => resolve());
  });
  say('Stopping: the running jobs end at their next safe point or are taken over');
  await context.close();
  await db.stop();
});
