import 'reflect-metadata';
import { createApp } from 'src/app.factory';
import { loadSettings, Settings, SettingsError } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { openDatabase, OpenDatabase } from 'src/database/open-database';
import { seedDemoIfEmpty } from 'src/demo-data/seed';
import { DatabaseUnreachableError } from 'src/database/wait-for-database';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres';

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
    shuttingDown = true;
    void stopDatabase().then(() => process.exit(0));
  };
  process.once('SIGINT', earlyStop);
  process.once('SIGTERM', earlyStop);

  const applied = await runMigrations(db.url);
  if (applied.length > 0) say(`Applied ${applied.length} migration(s)`);
  if (settings.demoSeed) await seedDemoIfEmpty(db.url, new Date(), say);
  if (shuttingDown) return;

  const app = await createApp({ settings, databaseUrl: db.url });
  process.off('SIGINT', earlyStop);
  process.off('SIGTERM', earlyStop);
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`${signal}: finishing in-flight requests and shutting down`);
    // app.close() stops accepting, waits for in-flight requests, then closes the database pool.
    void app
      .close()
      .then(stopDatabase)
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

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

bootstrap().catch((err: unknown) => {
  say(`Start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
