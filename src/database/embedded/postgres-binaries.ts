import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres.error';
import { canEnter, type RunAs } from 'src/database/embedded/system-user';

/** The PostgreSQL programs the embedded database runs, from the `embedded-postgres` package's platform package. */
export interface PostgresBinaries {
  /** The folder holding `bin/`, `lib/` and `share/`. */
  home: string;
  initdb: string;
  postgres: string;
  /** e.g. "18.4". */
  version: string;
  major: number;
}

const exe = process.platform === 'win32' ? '.exe' : '';
const PLATFORM_NAMES: Readonly<Record<string, string>> = { win32: 'windows' };

/** `@embedded-postgres/<platform>-<arch>`, installed as an optional dependency of `embedded-postgres`. */
export function packagedBinariesHome(): string {
  const platformPackage = `@embedded-postgres/${PLATFORM_NAMES[process.platform] ?? process.platform}-${process.arch}`;
  try {
    const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
    // The package exports only dist/index.js; native/ is beside dist/.
    return join(dirname(dirname(fromEmbedded.resolve(platformPackage))), 'native');
  } catch {
    throw new EmbeddedPostgresError(
      'failed',
      `No PostgreSQL binaries for ${process.platform}-${process.arch} (${platformPackage} is not installed): run \`npm ci\` again, or set DATABASE_URL to use another PostgreSQL.`,
    );
  }
}

function describe(home: string): PostgresBinaries {
  const postgres = join(home, 'bin', `postgres${exe}`);
  const initdb = join(home, 'bin', `initdb${exe}`);
  const version = /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(execFileSync(postgres, ['-V'], { encoding: 'utf8' }))?.[1];
  if (!version) throw new EmbeddedPostgresError('failed', `Could not tell the version of ${postgres}: run \`npm ci\` again, or set DATABASE_URL.`);
  return { home, initdb, postgres, version, major: Number(version.split('.')[0]) };
}

/**
 * The binaries, where `runAs` can run them. Inside a folder that user cannot enter (a checkout in root's mode-700
 * home, or in a `mktemp -d` folder) they are copied once, per version, into `sharedDir` (root's, world-readable);
 * the user's own folders keep their permissions.
 */
export function postgresBinaries(runAs: RunAs, sharedDir: string, home = packagedBinariesHome()): PostgresBinaries {
  const packaged = describe(home);
  if (canEnter(runAs, join(home, 'bin'))) return packaged;
  const target = join(sharedDir, `postgresql-${packaged.version}-${process.platform}-${process.arch}`);
  const stamp = join(target, '.complete');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== packaged.version) {
    try {
      makeSharedDir(sharedDir);
      const staging = `${target}.partial-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      cpSync(home, staging, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      openToAll(staging);
      writeFileSync(join(staging, '.complete'), `${packaged.version}\n`, { mode: 0o644 });
      rmSync(target, { recursive: true, force: true });
      try {
        renameSync(staging, target);
      } catch (err) {
        // Another process put the same copy in place first.
        rmSync(staging, { recursive: true, force: true });
        if (!existsSync(stamp)) throw err;
      }
    } catch (err) {
      throw new EmbeddedPostgresError('folder_unusable', `Cannot copy the PostgreSQL binaries to ${target} (${(err as Error).message}), where the "${runAs.name}" user could run them: set EMBEDDED_POSTGRES_SYSTEM_DIR to a writable folder, or set DATABASE_URL.`);
    }
  }
  return { ...packaged, home: target, initdb: join(target, 'bin', `initdb${exe}`), postgres: join(target, 'bin', `postgres${exe}`) };
}

/** A root-owned folder every user can enter (whatever root's umask), made if missing. */
export function makeSharedDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
}

/** Readable (and, where the owner may, executable) by every user, folders searchable: whatever root's umask was. */
function openToAll(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) openToAll(join(path, entry));
    return;
  }
  chmodSync(path, stat.mode & 0o100 ? 0o755 : 0o644);
}
