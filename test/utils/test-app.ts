import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { InjectOptions, Response as LightMyRequestResponse } from 'light-my-request';
import { createApp } from 'src/app.factory';
import { FixedClock } from 'src/common/clock/clock';
import { loadSettings, Settings } from 'src/config/settings';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

export interface TestApp {
  app: NestFastifyApplication;
  db: TestDatabase;
  clock: FixedClock;
  settings: Settings;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** The app's URL, listening on a free port of 127.0.0.1 from the first call on (for real HTTP clients: the SDK). */
  url(): Promise<string>;
  close(): Promise<void>;
}

/** The default fixed "now" of the e2e tests. */
export const TEST_NOW = new Date('2026-11-24T12:00:00.000Z');

/** The settings every test app runs with: quiet logs, no demo seed, a fixed JWT secret; `env` overrides. */
export function testSettings(databaseUrl: string, env: Record<string, string> = {}): Settings {
  return loadSettings({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DEMO_SEED: 'false',
    DATA_DIR: process.env.TEST_DATA_DIR ?? '.data/test',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    ...env,
    DATABASE_URL: databaseUrl,
  });
}

/**
 * The real application on this file's own database (cloned from the migrated template), with a fixed clock.
 * `env` overrides settings (e.g. `{ BODY_LIMIT_BYTES: '2048' }`).
 */
export async function createTestApp(
  options: { now?: Date; env?: Record<string, string>; appDatabaseUrl?: (url: string) => string } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  // `appDatabaseUrl`: where the app reaches its database (a pausable proxy in front of it: test/utils/pausable-proxy.ts).
  const appUrl = options.appDatabaseUrl ? options.appDatabaseUrl(db.url) : db.url;
  const settings = testSettings(appUrl, options.env);
  const clock = new FixedClock(options.now ?? TEST_NOW);
  const app = await createApp({ settings, databaseUrl: appUrl, clock });
  let url: string | null = null;
  return {
    app,
    db,
    clock,
    settings,
    inject: (o) => app.inject(o) as Promise<LightMyRequestResponse>,
    async url() {
      if (url === null) {
        await app.listen(0, '127.0.0.1');
        url = await app.getUrl();
      }
      return url;
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
