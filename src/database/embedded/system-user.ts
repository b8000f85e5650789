import { execFileSync, spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres.error';

/** Whom PostgreSQL runs as: the current user, or (as root, which PostgreSQL refuses) the `postgres` system user. */
export interface RunAs {
  /** null: the current user. */
  uid: number | null;
  gid: number | null;
  name: string;
}

export const SYSTEM_USER = 'postgres';

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

function ids(name: string): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Debian, Red Hat and SUSE (`useradd`), then Alpine and BusyBox (`adduser`). */
const CREATE_COMMANDS: readonly (readonly string[])[] = [
  ['sh', '-c', `getent group ${SYSTEM_USER} >/dev/null || groupadd --system ${SYSTEM_USER}; useradd --system -g ${SYSTEM_USER} -M -d /nonexistent -s /usr/sbin/nologin ${SYSTEM_USER}`],
  ['sh', '-c', `addgroup -S ${SYSTEM_USER} 2>/dev/null; adduser -S -D -H -G ${SYSTEM_USER} ${SYSTEM_USER}`],
];

/**
 * The user PostgreSQL runs as. As root that is the `postgres` system user, created here when missing (as the
 * embedded-postgres package's `createPostgresUser` does), since PostgreSQL refuses to run as root.
 */
export function postgresRunAs(): RunAs {
  if (!isRoot()) return { uid: null, gid: null, name: userInfo().username };
  let found = ids(SYSTEM_USER);
  for (const command of CREATE_COMMANDS) {
    if (found) break;
    spawnSync(command[0], command.slice(1), { stdio: 'ignore' });
    found = ids(SYSTEM_USER);
  }
  if (!found) {
    throw new EmbeddedPostgresError(
      'system_user',
      `Running as root, the embedded PostgreSQL must run as a "${SYSTEM_USER}" system user, and creating one failed: create it (\`useradd --system ${SYSTEM_USER}\`), run as an ordinary user, or set DATABASE_URL.`,
    );
  }
  return { uid: found.uid, gid: found.gid, name: SYSTEM_USER };
}

/** Spawn options that run a child as `runAs`. */
export function spawnIdentity(runAs: RunAs): { uid?: number; gid?: number } {
  return runAs.uid === null || runAs.gid === null ? {} : { uid: runAs.uid, gid: runAs.gid };
}

/**
 * Whether `runAs` can enter `dir` (every folder on the way searchable, ACLs included): asked of the system itself by
 * running `cd` as that user, rather than reading mode bits.
 */
export function canEnter(runAs: RunAs, dir: string): boolean {
  if (runAs.uid === null) return true;
  const r = spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...spawnIdentity(runAs), stdio: 'ignore' });
  return r.status === 0;
}
