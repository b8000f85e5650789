import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres.error';
import { makeSharedDir } from 'src/database/embedded/postgres-binaries';
import { canEnter, type RunAs } from 'src/database/embedded/system-user';

export interface ClusterLocation {
  /** The cluster's data folder (PGDATA). */
  dataDir: string;
  /** Root's world-readable folder for what `postgres` must reach (binaries, relocated clusters). */
  sharedDir: string;
  /** True when the cluster lives outside DATA_DIR because `postgres` cannot enter DATA_DIR. */
  relocated: boolean;
}

/** The shared folder: `systemDir` when root can write there, else one under the system's temporary folder. */
function sharedFolder(systemDir: string): { dir: string; temporary: boolean } {
  try {
    makeSharedDir(systemDir);
    accessSync(systemDir, constants.W_OK);
    return { dir: systemDir, temporary: false };
  } catch {
    const dir = join(tmpdir(), 'patient-journey');
    makeSharedDir(dir);
    return { dir, temporary: true };
  }
}

/**
 * Where the embedded cluster of DATA_DIR lives: `DATA_DIR/postgres`, unless PostgreSQL runs as another user (root
 * runs it as `postgres`) who cannot enter DATA_DIR, such as a checkout inside root's mode-700 home. Then it lives in
 * `<system dir>/<folder name>-<hash of DATA_DIR>/postgres`: the same folder for the same DATA_DIR on every start,
 * so a restart finds the same database, and DATA_DIR's own permissions stay as the user set them.
 */
export function clusterLocation(appDataDir: string, runAs: RunAs, systemDir: string, log: (line: string) => void): ClusterLocation {
  const dataDir = resolve(appDataDir);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new EmbeddedPostgresError('folder_unusable', `Cannot create DATA_DIR ${dataDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): set DATA_DIR to a folder you can write, or set DATABASE_URL.`);
  }
  const shared = runAs.uid === null ? { dir: systemDir, temporary: false } : sharedFolder(systemDir);
  if (canEnter(runAs, dataDir)) return { dataDir: join(dataDir, 'postgres'), sharedDir: shared.dir, relocated: false };
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const name = basename(dataDir) === '.data' ? basename(resolve(dataDir, '..')) : basename(dataDir);
  const home = join(shared.dir, `${name.replace(/[^\w.-]/g, '_')}-${id}`);
  makeSharedDir(home);
  if (!canEnter(runAs, home)) {
    throw new EmbeddedPostgresError('folder_unusable', `The "${runAs.name}" user cannot enter ${home}: set EMBEDDED_POSTGRES_SYSTEM_DIR to a folder it can reach, or set DATABASE_URL.`);
  }
  if (shared.temporary) log(`Note: ${systemDir} is not writable, so the database is under ${shared.dir}, which may not survive a reboot (set EMBEDDED_POSTGRES_SYSTEM_DIR to keep it elsewhere).`);
  return { dataDir: join(home, 'postgres'), sharedDir: shared.dir, relocated: true };
}
