import { ChildProcess, spawn } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statfsSync, unlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DEFAULT_EMBEDDED_SYSTEM_DIR } from 'src/config/settings';
import { clusterLocation } from 'src/database/embedded/cluster-location';
import { classifyFailure, EmbeddedPostgresError, portTaken } from 'src/database/embedded/embedded-postgres.error';
import { postgresBinaries, type PostgresBinaries } from 'src/database/embedded/postgres-binaries';
import { postgresRunAs, spawnIdentity, type RunAs } from 'src/database/embedded/system-user';

export { EmbeddedPostgresError } from 'src/database/embedded/embedded-postgres.error';

/** The embedded server's URL (local superuser; the server listens on 127.0.0.1 only). */
export function embeddedUrl(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

export interface EmbeddedOptions {
  /** DATA_DIR: the cluster lives in `DATA_DIR/postgres` (or, as root, where `postgres` can reach: cluster-location.ts). */
  appDataDir: string;
  port: number;
  /** EMBEDDED_POSTGRES_SYSTEM_DIR (root only). */
  systemDir?: string;
  /** false: the cluster's folder is removed on stop (the tests' throwaway server). Default true. */
  persistent?: boolean;
  /** Progress lines for the user (not the server's own output, which goes to `logFile`). */
  log?: (line: string) => void;
  /** The folder with bin/, lib/ and share/ (default: the embedded-postgres package's). */
  binariesHome?: string;
}

export interface EmbeddedDatabase {
  url: string;
  /** The cluster's data folder. */
  dataDir: string;
  /** The server's output. */
  logFile: string;
  /** False when a server of this cluster was already running (another process of the app's): `stop` leaves it. */
  started: boolean;
  /** Why the cluster is not under DATA_DIR, when it is not (see cluster-location.ts). */
  relocatedBecause: string | null;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
/** initdb writes about 40 MB; less than this free fails with a clear line before it starts. */
const MIN_FREE_BYTES = 64 * 1_048_576;
const OUTPUT_KEPT = 64 * 1024;

/**
 * Starts (or finds running) a real PostgreSQL from the binaries of the `embedded-postgres` package, its data kept
 * between runs. The package's own start-up class is not used: a spawn failure there is an unhandled 'error' event
 * (a stack trace instead of a cause), a failed start rejects with no reason, and it cannot run from a folder the
 * `postgres` user cannot enter. Every way a start can fail ends here in an EmbeddedPostgresError of one line.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const runAs = postgresRunAs();
  const location = clusterLocation(options.appDataDir, runAs, options.systemDir ?? DEFAULT_EMBEDDED_SYSTEM_DIR, log);
  const binaries = postgresBinaries(runAs, location.sharedDir, options.binariesHome);
  const { dataDir } = location;
  const url = embeddedUrl(options.port);
  const logFile = join(options.appDataDir, 'embedded-postgres.log');

  checkMajorVersion(dataDir, binaries);
  const running = await runningServer(dataDir, options.port, log);
  const relocatedBecause = location.relocated ? `the "${runAs.name}" user it runs as cannot enter ${options.appDataDir}` : null;
  if (running) return { url, dataDir, logFile, started: false, relocatedBecause, stop: async () => undefined };
  await checkPortFree(options.port);

  const output = new ServerOutput(logFile);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(binaries, dataDir, runAs, output, options.port);
  const server = await startServer(binaries, dataDir, runAs, options.port, output);
  const stopOnExit = (): void => {
    server.kill('SIGINT'); // a fast shutdown, should the process end without calling stop()
  };
  process.once('exit', stopOnExit);
  let stopped: Promise<void> | null = null;
  return {
    url,
    dataDir,
    logFile,
    started: true,
    relocatedBecause,
    stop() {
      stopped ??= (async () => {
        process.off('exit', stopOnExit);
        await stopServer(server);
        output.close();
        if (options.persistent === false) rmSync(dirname(dataDir) === options.appDataDir ? dataDir : dirname(dataDir), { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** The server's output: appended to a file for the user, the last part kept to explain a failure. */
class ServerOutput {
  private stream: WriteStream | null = null;
  private tail = '';

  constructor(readonly file: string) {
    try {
      mkdirSync(dirname(file), { recursive: true });
      this.stream = createWriteStream(file, { flags: 'a' });
      this.stream.on('error', () => {
        this.stream = null;
      });
    } catch {
      this.stream = null;
    }
  }

  write(text: string): void {
    this.stream?.write(text);
    this.tail = (this.tail + text).slice(-OUTPUT_KEPT);
  }

  /** The last part of what was written since the last `reset()`. */
  text(): string {
    return this.tail;
  }

  reset(): void {
    this.tail = '';
  }

  close(): void {
    this.stream?.end();
    this.stream = null;
  }
}

function checkMajorVersion(dataDir: string, binaries: PostgresBinaries): void {
  const file = join(dataDir, 'PG_VERSION');
  if (!existsSync(file)) return;
  const major = Number(readFileSync(file, 'utf8').trim());
  if (major === binaries.major) return;
  throw new EmbeddedPostgresError(
    'other_major_version',
    `The embedded PostgreSQL's data folder ${dataDir} was made by PostgreSQL ${major}, and this is PostgreSQL ${binaries.major}: move that folder away to start with a new database (or dump it with PostgreSQL ${major}'s pg_dump and restore it after), or set DATABASE_URL to a PostgreSQL ${major} server.`,
  );
}

/** `process.kill(pid, 0)`: the process exists (EPERM: it does, and is another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    // No /proc (macOS): a live process of that PID may be a server; say so rather than remove its lock.
    return process.platform !== 'linux';
  }
}

async function dataDirectoryOf(url: string): Promise<string | null> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SELECT current_setting($1) AS data_directory', ['data_directory']);
    return rows[0]?.data_directory ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const samePath = (a: string, b: string): boolean => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
};

/**
 * A server already running on this cluster (the app, while a command such as `npm run token` runs beside it):
 * true to use it. A `postmaster.pid` whose process is gone, or is no PostgreSQL (its PID reused after a crash or a
 * container restart, which PostgreSQL itself cannot tell apart), is removed; one held by a live server that does not
 * answer on this port is an error.
 */
async function runningServer(dataDir: string, port: number, log: (line: string) => void): Promise<boolean> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const found = await dataDirectoryOf(embeddedUrl(port));
  if (found !== null && samePath(found, dataDir)) {
    log(`Using the embedded PostgreSQL already running on port ${port} (data in ${dataDir})`);
    return true;
  }
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const itsPort = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid) && isPostgresProcess(pid)) {
    throw new EmbeddedPostgresError(
      'another_server',
      `A PostgreSQL server (PID ${pid}${Number.isInteger(itsPort) && itsPort > 0 ? `, port ${itsPort}` : ''}) is already running on the data folder ${dataDir} but does not answer on port ${port}: stop it (\`kill -INT ${pid}\`), or set EMBEDDED_POSTGRES_PORT to its port.`,
    );
  }
  unlinkSync(pidFile);
  log(`Removed a stale postmaster.pid from ${dataDir} (process ${lines[0]} is no longer a PostgreSQL server)`);
  return false;
}

function checkPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? portTaken(port) : err));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' });

/** Runs a program to its end; rejects (with its output) when it fails to spawn or exits non-zero. */
function runToEnd(command: string, args: string[], runAs: RunAs, output: ServerOutput): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...spawnIdentity(runAs), env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => output.write(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.write(d.toString()));
    child.once('error', (err) => reject(err));
    child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`exit ${code ?? signal}`))));
  });
}

async function initialise(binaries: PostgresBinaries, dataDir: string, runAs: RunAs, output: ServerOutput, port: number): Promise<void> {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (runAs.uid !== null && runAs.gid !== null) chownSync(dataDir, runAs.uid, runAs.gid);
  } catch (err) {
    throw new EmbeddedPostgresError('folder_unusable', `Cannot create the embedded PostgreSQL's data folder ${dataDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): set DATA_DIR to a folder you can write, or set DATABASE_URL.`);
  }
  const free = freeBytes(dataDir);
  if (free !== null && free < MIN_FREE_BYTES) {
    throw new EmbeddedPostgresError('disk_full', `No space left on the device that holds ${dataDir} (${Math.round(free / 1_048_576)} MB free; a new database needs about 64 MB): free some space (see \`df -h ${dataDir}\`) and start again, or set DATA_DIR to a folder on another disk.`);
  }
  const passwordFile = join(tmpdir(), `pj-pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(passwordFile, 'postgres\n', { mode: 0o600 });
  if (runAs.uid !== null && runAs.gid !== null) chownSync(passwordFile, runAs.uid, runAs.gid);
  output.reset();
  try {
    await runToEnd(binaries.initdb, [
      `--pgdata=${dataDir}`,
      '--auth=scram-sha-256',
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      // Code-point collation (fast, deterministic, like C) with Unicode case mapping, so lower('É') is 'é'.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--lc-messages=C',
    ], runAs, output);
  } catch (err) {
    const text = `${output.text()}\n${(err as NodeJS.ErrnoException).code === 'EACCES' ? `${binaries.initdb}: permission denied` : (err as Error).message}`;
    // A half-made cluster would make the next start fail in another way: initdb's own cleanup, then ours.
    rmSync(join(dataDir, 'PG_VERSION'), { force: true });
    throw classifyFailure('initdb', { output: text, dataDir, port, logFile: output.file });
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/** Starts the server and resolves once it accepts connections; rejects with the classified cause otherwise. */
async function startServer(binaries: PostgresBinaries, dataDir: string, runAs: RunAs, port: number, output: ServerOutput): Promise<ChildProcess> {
  output.reset();
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'];
  const server = spawn(binaries.postgres, args, { ...spawnIdentity(runAs), env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout?.on('data', (d: Buffer) => output.write(d.toString()));
  server.stderr?.on('data', (d: Buffer) => output.write(d.toString()));
  const failure = (extra: string): EmbeddedPostgresError => classifyFailure('start', { output: `${output.text()}\n${extra}`, dataDir, port, logFile: output.file });
  const ended = new Promise<never>((_, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(failure(err.code === 'EACCES' ? `${binaries.postgres}: permission denied` : err.message)));
    // 'close', not 'exit': the server's last lines (its FATAL) arrive before the pipes close.
    server.once('close', (code, signal) => reject(failure(`the server exited (${code ?? signal})`)));
  });
  ended.catch(() => undefined);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = await Promise.race([accepts(embeddedUrl(port)), ended]);
    if (ready) return server;
    if (Date.now() > deadline) {
      server.kill('SIGQUIT');
      throw new EmbeddedPostgresError('timeout', `The embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s: see ${output.file}, or set DATABASE_URL to use another PostgreSQL.`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 100)), ended]);
  }
}

async function accepts(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fast shutdown (SIGINT: active sessions are ended), then an immediate one if it hangs. */
function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => server.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    server.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    server.kill('SIGINT');
  });
}
