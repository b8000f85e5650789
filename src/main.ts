import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from 'src/app.factory';
import { ShutdownState } from 'src/common/resilience/shutdown-state';
import { loadSettings, Settings, SettingsError } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase, OpenDatabase } from 'src/database/open-database';
import { seedDemoIfEmpty } from 'src/demo-data/seed';
import { DatabaseUnreachableError } from 'src/database/wait-for-database';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres';
import { checkMasterKey, MasterKeyMismatchError } from 'src/records/phi/master-key-check';

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function publicUrl(settings: Settings, port: number): string {
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? 'localhost' : settings.host;
  return `http://${host}:${port}`;
}

async function bootstrap(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      say(err.message);
      process.exit(1);
    }
    throw err;
  }

  let db: OpenDatabase;
  try {
    db = await openDatabase(settings, say);
  } catch (err) {
    if (err instanceof DatabaseUnreachableError || err instanceof EmbeddedPostgresError) {
      say(err.message);
      process.exit(1);
    }
    throw err;
  }

  let shuttingDown = false;
  const stopDatabase = async (): Promise<void> => {
    await db.stop().catch((e: unknown) => say(`Stopping the embedded PostgreSQL failed: ${e instanceof Error ? e.message : String(e)}`));
  };
  // Until the HTTP server runs, a signal only has the database to stop.
  const earlyStop = (): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    void stopDatabase().then(() => process.exit(0));
  };
  // `on`, not `once`: a signal often comes twice (Ctrl+C reaches npm, scripts/cli.js and this process, and cli.js
  // passes it on too); a second one with no listener left would kill the process mid-shutdown.
  process.on('SIGINT', earlyStop);
  process.on('SIGTERM', earlyStop);

  const applied = await runMigrations(db.url);
  if (applied.length > 0) say(`Applied ${applied.length} migration(s)`);
  try {
    await checkMasterKey(db, settings);
  } catch (err) {
    if (err instanceof MasterKeyMismatchError) {
      say(err.message);
      await stopDatabase();
      process.exit(1);
    }
    throw err;
  }
  if (settings.demoSeed) await seedDemoIfEmpty(db.url, new Date(), say);
  if (shuttingDown) return;

  const app = await createApp({ settings, databaseUrl: db.url });
  process.off('SIGINT', earlyStop);
  process.off('SIGTERM', earlyStop);
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    void gracefulShutdown(app, settings, signal)
      .then(stopDatabase)
      .then(
        () => process.exit(0),
        (err: unknown) => {
          say(`Shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  await app.listen({ port: settings.port, host: settings.host });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const base = publicUrl(settings, port);
  say('');
  say(`Patient journey API listening on ${base}/api/v1`);
  say(`  Swagger UI:    ${base}/api/docs   (OpenAPI document: ${base}/api/docs-json)`);
  say(`  Health:        ${base}/health and ${base}/health/ready`);
  if (settings.nodeEnv !== 'production') {
    say(`  A token:       npm run --silent token -- --org demo --role admin   (paste it into Swagger UI's Authorize)`);
  }
  say(`  Database:      ${db.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'}; stop with Ctrl+C`);
}

/**
 * SIGTERM/SIGINT (docs/resilience.md, "Shutdown"): readiness turns 503 and answers carry `Connection: close`; the
 * server stops accepting connections; the requests in flight finish (each with its audit event committed before its
 * answer leaves) within SHUTDOWN_GRACE_SECONDS; then Nest's shutdown: the jobs finish or, at the deadline, stop at
 * their next safe point and are handed back to the queue (JobService), the audit writer's queue is flushed, the
 * pool closes.
 */
async function gracefulShutdown(app: NestFastifyApplication, settings: Settings, signal: string): Promise<void> {
  const state = app.get(ShutdownState);
  const graceMs = settings.resilience.shutdownGraceSeconds * 1000;
  state.startDraining(graceMs);
  say(`${signal}: draining (${state.inFlight} request(s) in flight, grace ${settings.resilience.shutdownGraceSeconds} s)`);
  // New requests are answered 503 + Retry-After + Connection: close from now on (app.factory.ts); the listener stays
  // open until the requests in flight are done, then closes with the app.
  const done = await state.requestsDone();
  if (!done) say(`${signal}: ${state.inFlight} request(s) still in flight after the grace period; closing them`);
  await app.close();
  say(`${signal}: stopped`);
}

bootstrap().catch((err: unknown) => {
  say(`Start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
