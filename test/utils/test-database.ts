import { Client } from 'pg';
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  /** URL of this file's own database (owner/superuser: for arranging data and inspecting raw rows). */
  url: string;
  name: string;
  /** Runs SQL as the owner, outside the app. */
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database for one test file, cloned from the migrated template (fast: a file copy, no migrations). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_DB_SERVER_URL;
  const template = process.env.TEST_DB_TEMPLATE;
  if (!server || !template) throw new Error('No test database server: run the tests through jest (globalSetup), without JEST_SKIP_DB');
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(server, name);
  const client = new Client({ connectionString: url, options: '-c timezone=UTC' });
  await client.connect();
  return {
    url,
    name,
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      const res = await client.query<T>(sql, params);
      return res.rows;
    },
    async drop() {
      await client.end().catch(() => undefined);
      const a = new Client({ connectionString: server });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
