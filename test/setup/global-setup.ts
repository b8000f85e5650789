import './register-paths';
import { Client } from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from 'src/database/embedded/embedded-postgres';
import { runMigrations } from 'src/database/migrate';

/**
 * Once per test run: find the PostgreSQL server (DATABASE_URL, else an embedded one in a temporary directory),
 * create a template database and apply the migrations to it. Each test file then clones the template
 * (test/utils/test-database.ts), so files run in parallel without seeing each other's rows.
 * JEST_SKIP_DB=1 skips all of it for pure unit runs.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.JEST_SKIP_DB === '1') return;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    // A throwaway cluster (removed at the end). As root, PostgreSQL runs as the postgres user, which cannot enter a
    // mkdtemp folder (mode 700): the cluster then goes where that user can reach (src/database/embedded/).
    const dir = mkdtempSync(join(tmpdir(), 'pj-test-pg-'));
    const port = 55000 + Math.floor(Math.random() * 5000);
    const db = await startEmbeddedPostgres({ appDataDir: dir, port, persistent: false, systemDir: join(tmpdir(), 'patient-journey-test') });
    (globalThis as { __embeddedPgDir?: string }).__embeddedPgDir = dir;
    (globalThis as { __embeddedPg?: { stop(): Promise<void> } }).__embeddedPg = db;
    serverUrl = db.url;
  }
  const template = `pj_test_template_${process.pid}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${template}`);
    await admin.query(`CREATE DATABASE ${template}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(serverUrl, template);
  await runMigrations(templateUrl);
  process.env.TEST_DB_SERVER_URL = serverUrl;
  process.env.TEST_DB_TEMPLATE = template;
  (globalThis as { __testTemplate?: string }).__testTemplate = template;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
