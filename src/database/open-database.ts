import { join } from 'node:path';
import type { Settings } from 'src/config/settings';
import { startEmbeddedPostgres } from 'src/database/embedded-postgres';
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
  log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${dir}, port ${settings.embeddedPostgresPort})`);
  const db = await startEmbeddedPostgres(dir, settings.embeddedPostgresPort, () => undefined);
  await waitForDatabase(db.url, settings.databaseConnectTimeoutSeconds, log);
  return { url: db.url, embedded: true, stop: () => db.stop() };
}
