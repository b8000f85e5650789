import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { embeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from 'src/database/embedded/embedded-postgres';
import { packagedBinariesHome } from 'src/database/embedded/postgres-binaries';
import { eventually } from 'test/utils/eventually';

/**
 * A primary and a streaming standby of its own, from the embedded PostgreSQL binaries the project ships (the
 * machine's shared server refuses replication connections, and a test must not change its configuration). On free
 * ports, in temporary folders the `postgres` user can enter (as root the servers run as that user:
 * src/database/embedded/ handles it).
 *
 * The package ships `initdb`, `pg_ctl` and `postgres`, no `pg_basebackup` (and a machine's own pg_basebackup of
 * another major version refuses the server). The base backup is therefore the other documented way: the primary is
 * shut down cleanly, its data folder copied, and the copy started as a standby (`standby.signal` and
 * `primary_conninfo`, what `pg_basebackup -R` writes). initdb's default pg_hba.conf already admits replication
 * connections from 127.0.0.1.
 */
export interface StreamingPair {
  /** The `postgres` database on the primary (superuser). */
  primaryUrl: string;
  /** The same database on the standby (superuser: pause and resume replay). */
  standbyUrl: string;
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stopStandby(): Promise<void>;
  startStandby(): Promise<void>;
  close(): Promise<void>;
}

/** Why the pair cannot be made here (no binaries for this platform), or null. */
export function streamingReplicaUnavailable(): string | null {
  try {
    packagedBinariesHome();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** A folder the `postgres` user can enter (mkdtemp makes mode 700 folders). */
function openFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function startStreamingPair(): Promise<StreamingPair> {
  const systemDir = join(tmpdir(), 'patient-journey-test');
  const primaryDir = openFolder('pj-primary-');
  const standbyDir = openFolder('pj-standby-');
  const [primaryPort, standbyPort] = [await freePort(), await freePort()];
  let primary: EmbeddedDatabase = await startEmbeddedPostgres({ appDataDir: primaryDir, port: primaryPort, systemDir });
  const primaryData = primary.dataDir;
  // The base backup: a clean shutdown's data folder is consistent; copied with its owner and mode.
  await primary.stop();
  const standbyData = join(standbyDir, 'postgres');
  cpSync(primaryData, standbyData, { recursive: true, preserveTimestamps: true });
  const owner = statSync(primaryData);
  if (process.getuid?.() === 0) spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, standbyData]);
  chmodSync(standbyData, 0o700);
  rmSync(join(standbyData, 'postmaster.pid'), { force: true });
  writeFileSync(join(standbyData, 'standby.signal'), '');
  appendFileSync(
    join(standbyData, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres password=postgres application_name=pj_test_standby'\nhot_standby = on\n`,
  );
  if (process.getuid?.() === 0) spawnSync('chown', [`${owner.uid}:${owner.gid}`, join(standbyData, 'standby.signal')]);

  primary = await startEmbeddedPostgres({ appDataDir: primaryDir, port: primaryPort, systemDir });
  let standby: EmbeddedDatabase | null = await startEmbeddedPostgres({ appDataDir: standbyDir, port: standbyPort, systemDir });
  if (standby.dataDir !== standbyData) throw new Error(`the standby started from ${standby.dataDir}, not ${standbyData}`);
  const primaryUrl = embeddedUrl(primaryPort);
  const standbyUrl = embeddedUrl(standbyPort);
  await eventually(
    () => query<{ n: number }>(primaryUrl, `SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'`),
    (rows) => rows[0].n === 1,
    { timeoutMs: 60_000, intervalMs: 100, what: 'the standby streaming from the primary' },
  );

  const pair: StreamingPair = {
    primaryUrl,
    standbyUrl,
    pauseReplay: async () => {
      await query(standbyUrl, 'SELECT pg_wal_replay_pause()');
    },
    resumeReplay: async () => {
      await query(standbyUrl, 'SELECT pg_wal_replay_resume()');
    },
    caughtUp: async () => {
      const [{ lsn }] = await query<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
      await eventually(
        () => query<{ ok: boolean }>(standbyUrl, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS ok`),
        (rows) => rows[0].ok,
        { timeoutMs: 30_000, intervalMs: 50, what: `the standby replayed up to ${lsn}` },
      );
    },
    stopStandby: async () => {
      await standby?.stop();
      standby = null;
    },
    startStandby: async () => {
      standby ??= await startEmbeddedPostgres({ appDataDir: standbyDir, port: standbyPort, systemDir });
    },
    close: async () => {
      await standby?.stop().catch(() => undefined);
      await primary.stop().catch(() => undefined);
      for (const dir of [standbyDir, primaryDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
  return pair;
}
