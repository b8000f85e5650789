import type { Settings } from 'src/config/settings';
import { startEmbeddedPostgres } from 'src/database/embedded/embedded-postgres';
import { describeDatabase, waitForDatabase } from 'src/database/wait-for-database';

export interface OpenDatabase {
  url: string;
  embedded: boolean;
  /** The embedded cluster's data folder (PGDATA); absent with DATABASE_URL. */
  embeddedDataDir?: string;
  stop(): Promise<void>;
}

/**
 * The database the process works with: DATABASE_URL when set, otherwise the embedded PostgreSQL of DATA_DIR
 * (started here and stopped by `stop()`, or used as it is when the app already runs it). Waits up to
 * DATABASE_CONNECT_TIMEOUT_SECONDS for it.
 */
export async function openDatabase(settings: Settings, log: (line: string) => void): Promise<OpenDatabase> {
  if (settings.databaseUrl) {
    log(`Using PostgreSQL at ${describeDatabase(settings.databaseUrl)}`);
    await waitForDatabase(settings.databaseUrl, settings.databaseConnectTimeoutSeconds, log);
    return { url: settings.databaseUrl, embedded: false, stop: async () => undefined };
  }
  const db = await startEmbeddedPostgres({
    appDataDir: settings.dataDir,
    port: settings.embeddedPostgresPort,
    systemDir: settings.embeddedPostgresSystemDir,
    log,
  });
  const why = db.relocatedBecause ? `; not under DATA_DIR because ${db.relocatedBecause}` : '';
  if (db.started) log(`DATABASE_URL is not set: started the embedded PostgreSQL (data in ${db.dataDir}${why}; port ${settings.embeddedPostgresPort})`);
  return { url: db.url, embedded: true, embeddedDataDir: db.dataDir, stop: () => db.stop() };
}
