import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Settings } from 'src/config/settings';
import { embeddedUrl, startEmbeddedPostgres } from 'src/database/embedded-postgres';
import { describeDatabase, waitForDatabase } from 'src/database/wait-for-database';

export interface OpenDatabase {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The database the process works with: DATABASE_URL when set, otherwise the embedded PostgreSQL under
 * DATA_DIR/postgres (started here, stopped by `stop()`). Waits up to DATABASE_CONNECT_TIMEOUT_SECONDS for it.
 */
export async function openDatabase(settings: Settings, log: (line: string) => void): Promise<OpenDatabase> {
  if (settings.databaseUrl) {
    log(`Using PostgreSQL at ${describeDatabase(settings.databaseUrl)}`);
    await waitForDatabase(settings.databaseUrl, settings.databaseConnectTimeoutSeconds, log);
    return { url: settings.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const dir = join(settings.dataDir, 'postgres');
  // Already running for this data directory (the app, while a command such as `npm run token` runs beside it):
  // use it, and leave it running.
  const runningUrl = embeddedUrl(settings.embeddedPostgresPort);
  if (existsSync(join(dir, 'postmaster.pid')) && (await answers(runningUrl))) {
    log(`Using the embedded PostgreSQL already running on port ${settings.embeddedPostgresPort} (data in ${dir})`);
    return { url: runningUrl, embedded: true, stop: async () => undefined };
  }
  log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${dir}, port ${settings.embeddedPostgresPort})`);
  const db = await startEmbeddedPostgres(dir, settings.embeddedPostgresPort, () => undefined);
  await waitForDatabase(db.url, settings.databaseConnectTimeoutSeconds, log);
  return { url: db.url, embedded: true, stop: () => db.stop() };
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
