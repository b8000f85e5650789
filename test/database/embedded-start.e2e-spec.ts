import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { packagedBinariesHome, postgresBinaries } from 'src/database/embedded/postgres-binaries';
import { postgresRunAs } from 'src/database/embedded/system-user';

/**
 * Every way the embedded PostgreSQL can fail to start ends the process (`npm start` → scripts/cli.js main) with one
 * line naming the cause and what to do, exit code 1, no stack trace; and as root it starts from a folder its
 * `postgres` user cannot enter (a checkout in root's mode-700 home), keeping its data between runs.
 */
const root = resolve(__dirname, '../..');
const isRoot = process.getuid?.() === 0;
const scratch: string[] = [];

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
  scratch.push(dir);
  return dir;
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', DEMO_SEED: 'false', ...extra };
}

/** Runs `npm start`'s command to its end. */
function start(extra: Record<string, string>): { status: number | null; lines: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/cli.js', 'main'], { cwd: root, env: env(extra), encoding: 'utf8', timeout: 120_000 });
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Building'));
  return { status: r.status, lines, stderr: r.stderr };
}

/** Exit code 1, no stack trace, and the last line says `cause`. */
function expectOneLineFailure(r: ReturnType<typeof start>, cause: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('Error:');
  expect(r.lines.length).toBeGreaterThan(0);
  expect(r.lines[r.lines.length - 1]).toMatch(cause);
}

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('embedded PostgreSQL start-up failures: one line, exit code 1', () => {
  let blocker: Server;
  afterEach(() => {
    blocker?.close();
  });

  it('names a port taken by another program and the setting to change', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(port, '127.0.0.1', () => ok()));
    const r = start({ DATA_DIR: openFolder('pj-port-'), EMBEDDED_POSTGRES_PORT: String(port), PORT: '0' });
    expectOneLineFailure(r, new RegExp(`^Port ${port} on 127\\.0\\.0\\.1, where the embedded PostgreSQL listens, is taken by another program: set EMBEDDED_POSTGRES_PORT to a free port`));
  });

  it('names a data folder made by another major version and what to do with it', async () => {
    const dataDir = openFolder('pj-major-');
    mkdirSync(join(dataDir, 'postgres'));
    writeFileSync(join(dataDir, 'postgres', 'PG_VERSION'), '16\n');
    const r = start({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: '0' });
    expectOneLineFailure(r, /data folder .*postgres was made by PostgreSQL 16, and this is PostgreSQL 18: move that folder away/);
    expect(readFileSync(join(dataDir, 'postgres', 'PG_VERSION'), 'utf8')).toBe('16\n'); // nothing touched
  });

  it('names a DATA_DIR it cannot create', async () => {
    const file = join(openFolder('pj-notdir-'), 'a-file');
    writeFileSync(file, '');
    const r = start({ DATA_DIR: join(file, 'data'), EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: '0' });
    expectOneLineFailure(r, new RegExp(`^Invalid setting DATA_DIR: expected a folder this process can create and write \\(ENOTDIR on ${file}/data/jwt-secret\\), got "${file}/data"$`));
  });

  it('names a full disk and how to see it', async () => {
    const mountPoint = openFolder('pj-full-');
    const mounted = isRoot && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=755', 'tmpfs', mountPoint]).status === 0;
    if (!mounted) {
      console.warn('Skipped the full-disk start: it needs root and a tmpfs mount (the classifier is unit-tested on real initdb output).');
      return;
    }
    try {
      const r = start({ DATA_DIR: mountPoint, EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: '0' });
      expectOneLineFailure(r, new RegExp(`^No space left on the device that holds ${mountPoint}/postgres .*free some space \\(see \`df -h ${mountPoint}/postgres\`\\)`));
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});

describe('a stale postmaster.pid', () => {
  it('is removed when its process is no PostgreSQL, and the server starts', async () => {
    const dataDir = openFolder('pj-stale-');
    const pgPort = await freePort();
    // Make a cluster, stop it, then leave a postmaster.pid naming a live process that is not PostgreSQL (a PID reused
    // after a crash or a container restart).
    const app = await runningApp({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort) });
    await app.stop();
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    expect(existsSync(pidFile)).toBe(false);
    const impostor = spawn('sleep', ['60']);
    try {
      writeFileSync(pidFile, `${impostor.pid}\n${join(dataDir, 'postgres')}\n1700000000\n${pgPort}\n\n127.0.0.1\n  5432001  1\nready   \n`);
      const again = await runningApp({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort) });
      expect(again.output()).toContain(`Removed a stale postmaster.pid from ${join(dataDir, 'postgres')} (process ${impostor.pid} is no longer a PostgreSQL server)`);
      await again.stop();
    } finally {
      impostor.kill();
    }
  }, 120_000);
});

describe('a data folder held by a running server on another port', () => {
  it('names the server, its port, and how to stop it or use its port', async () => {
    const dataDir = openFolder('pj-held-');
    const pgPort = await freePort();
    const app = await runningApp({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort) });
    try {
      const otherPort = await freePort();
      const r = start({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(otherPort), PORT: '0' });
      expectOneLineFailure(r, new RegExp(`^A PostgreSQL server \\(PID \\d+, port ${pgPort}\\) is already running on the data folder ${dataDir}/postgres but does not answer on port ${otherPort}: stop it \\(\`kill -INT \\d+\`\\), or set EMBEDDED_POSTGRES_PORT to its port\\.$`));
    } finally {
      await app.stop();
    }
  }, 120_000);
});

/** The app started in the background until /health/ready answers; `stop` sends SIGTERM and waits for exit 0. */
async function runningApp(extra: Record<string, string>): Promise<{ port: number; output(): string; stop(): Promise<void>; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['scripts/cli.js', 'main'], { cwd: root, env: env({ ...extra, PORT: String(port), HOST: '127.0.0.1' }) });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}: ${output}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no /health/ready within 90 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    child,
    output: () => output,
    stop: () =>
      new Promise<void>((ok, fail) => {
        child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`exit ${code}: ${output}`))));
        child.kill('SIGTERM');
      }),
  };
}

const describeAsRoot = isRoot ? describe : describe.skip;
if (!isRoot) console.warn('Skipped the root start-up tests (a folder the postgres user cannot enter): they need root.');

describeAsRoot('as root, from a folder the postgres user cannot enter (a checkout in a mode-700 home)', () => {
  it('starts with the cluster where postgres can reach it, leaves the folder private, and finds the same data on restart', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pj-private-')); // mode 700, like root's home
    scratch.push(home);
    const systemDir = openFolder('pj-system-');
    const settings = { DATA_DIR: join(home, 'app', '.data'), EMBEDDED_POSTGRES_PORT: String(await freePort()), EMBEDDED_POSTGRES_SYSTEM_DIR: systemDir };
    const app = await runningApp(settings);
    const where = /started the embedded PostgreSQL \(data in (\S+); not under DATA_DIR because the "postgres" user it runs as cannot enter/.exec(app.output());
    expect(where?.[1]).toMatch(new RegExp(`^${systemDir}/app-[0-9a-f]{12}/postgres$`));
    const client = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${settings.EMBEDDED_POSTGRES_PORT}/postgres` });
    await client.connect();
    await client.query('CREATE TABLE kept_between_runs (n int); INSERT INTO kept_between_runs VALUES (42)');
    await client.end();
    const secret = readFileSync(join(settings.DATA_DIR, 'jwt-secret'), 'utf8');
    await app.stop();

    const again = await runningApp(settings);
    expect(again.output()).toContain(`data in ${where?.[1]}`);
    const check = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${settings.EMBEDDED_POSTGRES_PORT}/postgres` });
    await check.connect();
    expect((await check.query('SELECT n FROM kept_between_runs')).rows).toEqual([{ n: 42 }]);
    await check.end();
    await again.stop();
    expect(readFileSync(join(settings.DATA_DIR, 'jwt-secret'), 'utf8')).toBe(secret);
    expect(statSync(home).mode & 0o777).toBe(0o700); // the user's folder as it was
  }, 180_000);

  it('a checkout cloned again in the same folder (a new key, the kept database): exit 1 naming the folder to delete; deleted, it starts afresh', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pj-private-again-'));
    scratch.push(home);
    const systemDir = openFolder('pj-system-again-');
    const settings = {
      DATA_DIR: join(home, 'app', '.data'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_POSTGRES_SYSTEM_DIR: systemDir,
      DEMO_SEED: 'true', // the demo clinic: organization keys wrapped under this checkout's key
    };
    const first = await runningApp(settings);
    const cluster = /started the embedded PostgreSQL \(data in (\S+);/.exec(first.output())?.[1] ?? '';
    expect(cluster).toMatch(new RegExp(`^${systemDir}/app-[0-9a-f]{12}/postgres$`));
    await first.stop();

    // The checkout deleted and cloned again: its .data (keys included) is new, the cluster outside it is not.
    rmSync(join(home, 'app'), { recursive: true, force: true });
    const r = start(settings);
    expectOneLineFailure(r, /^The PHI master key of the file \S+phi-encryption-key \(PHI_ENCRYPTION_KEYS unset\) does not open this database's organization keys/);
    const message = r.lines[r.lines.length - 1];
    expect(message).toContain(`This is the embedded PostgreSQL's database in ${cluster}, kept from an earlier start under another key`);
    expect(message).toContain(`delete ${cluster} and start again`);
    expect(message).not.toContain(readFileSync(join(settings.DATA_DIR, 'phi-encryption-key'), 'utf8').trim());

    // As the message says: the folder deleted, the same checkout starts with a new database and its demo clinic.
    rmSync(cluster, { recursive: true, force: true });
    const again = await runningApp(settings);
    expect(again.output()).toContain(`data in ${cluster}`);
    expect((await fetch(`http://127.0.0.1:${again.port}/health/ready`)).status).toBe(200);
    await again.stop();
  }, 240_000);

  it('runs binaries installed inside such a folder from a copy it makes once, per version, in the shared folder', () => {
    const home = mkdtempSync(join(tmpdir(), 'pj-private-bin-'));
    scratch.push(home);
    cpSync(packagedBinariesHome(), join(home, 'native'), { recursive: true, verbatimSymlinks: true });
    const systemDir = openFolder('pj-system-bin-');
    const runAs = postgresRunAs();
    const binaries = postgresBinaries(runAs, systemDir, join(home, 'native'));
    expect(binaries.home).toBe(join(systemDir, `postgresql-${binaries.version}-${process.platform}-${process.arch}`));
    const asPostgres = spawnSync(binaries.initdb, ['--version'], { uid: runAs.uid ?? undefined, gid: runAs.gid ?? undefined, encoding: 'utf8' });
    expect(asPostgres.stdout).toContain(`(PostgreSQL) ${binaries.version}`);
    // From the packaged folder itself the postgres user is refused.
    const refused = spawnSync(join(home, 'native', 'bin', 'initdb'), ['--version'], { uid: runAs.uid ?? undefined, gid: runAs.gid ?? undefined });
    expect(refused.error).toBeDefined();
    expect(postgresBinaries(runAs, systemDir, join(home, 'native')).home).toBe(binaries.home); // reused, not copied again
  });
});
