import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from 'test/utils/eventually';

/**
 * The real start-up path (`npm start` runs `node scripts/cli.js main`: build if needed, then dist/main.js), run as a
 * child process the way a user runs it.
 */
const root = resolve(__dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'info' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

function run(env: NodeJS.ProcessEnv): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, ['scripts/cli.js', 'main'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

async function waitFor(url: string, timeoutMs: number, child: ChildProcess): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with code ${child.exitCode} before answering`);
    try {
      return await fetch(url);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`no answer from ${url}: ${String(last)}`);
}

describe('start-up', () => {
  it('refuses a bad setting with one line naming it, exit code 1, no stack trace', () => {
    const r = run(baseEnv({ PORT: 'eighty' }));
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Building'));
    expect(lines).toEqual(['Invalid setting PORT: expected an integer from 0 to 65535, got "eighty"']);
  });

  it('names the database host it cannot reach, after retrying, exit code 1', () => {
    const r = run(baseEnv({ DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/nothing', DATABASE_CONNECT_TIMEOUT_SECONDS: '2' }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Cannot reach PostgreSQL at 127.0.0.1:1/nothing');
    expect(r.stderr).not.toContain('secret');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  /** `npm start` as a child process on an embedded PostgreSQL of its own (a fresh data folder), once it answers. */
  async function startApp(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; dataDir: string; port: number; pgPort: number; ready: Response; logs: () => string; stderr: () => string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'pj-start-'));
    chmodSync(dataDir, 0o755);
    const port = await freePort();
    const pgPort = await freePort();
    const child = spawn(process.execPath, ['scripts/cli.js', 'main'], {
      cwd: root,
      env: baseEnv({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort), ...extra }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = await waitFor(`http://127.0.0.1:${port}/health/ready`, 90_000, child);
    return { child, dataDir, port, pgPort, ready, logs: () => stdout + stderr, stderr: () => stderr };
  }

  /**
   * Stops an app started above: SIGTERM, which `scripts/cli.js` passes on to the app it started (a SIGKILL would
   * leave that app, a grandchild, running), then SIGKILL only if it has not exited within 30 s.
   */
  const stop = async (app: { child: ChildProcess; dataDir: string } | undefined): Promise<void> => {
    if (!app) return;
    if (app.child.exitCode === null && app.child.signalCode === null) {
      const exited = new Promise<void>((ok) => app.child.once('exit', () => ok()));
      app.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((ok) => (timer = setTimeout(ok, 30_000)))]);
      clearTimeout(timer);
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    }
    rmSync(app.dataDir, { recursive: true, force: true });
  };

  describe('with DATABASE_URL unset (embedded PostgreSQL)', () => {
    let app: Awaited<ReturnType<typeof startApp>>;
    let port: number;
    let pgPort: number;
    let dataDir: string;

    beforeAll(async () => {
      app = await startApp();
      ({ port, pgPort, dataDir } = app);
    }, 120_000);

    afterAll(() => stop(app), 60_000);

    it('answers /health/ready with the embedded database, seeds and scores the demo clinic, and prints where to go', async () => {
      const res = app.ready;
      const stderr = app.stderr();
      expect(res.status).toBe(200);
      expect(((await res.json()) as { info: { database: { status: string } } }).info.database.status).toBe('up');
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(stderr).toContain('Seeded "demo"');
      expect(stderr).toContain('scored its 2000 patients');
      expect(stderr).toContain(`/api/v1`);
      expect(stderr).toContain('/api/docs');
      const docs = await fetch(`http://127.0.0.1:${port}/api/docs`);
      expect(docs.status).toBe(200);
    }, 120_000);

    it('lets `npm run token` work beside the running app (same embedded database) and the token open /me', async () => {
      const r = spawnSync(process.execPath, ['scripts/cli.js', 'cli/token', '--org', 'demo', '--role', 'admin'], {
        cwd: root,
        env: baseEnv({ DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(pgPort) }),
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const me = await fetch(`http://127.0.0.1:${port}/api/v1/me`, { headers: { authorization: `Bearer ${lines[0]}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { memberships: { organization_slug: string; role: string }[] }).memberships).toEqual([
        expect.objectContaining({ organization_slug: 'demo', role: 'admin' }),
      ]);
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true); // the app's database still runs
    }, 120_000);

    it('never logs PHI sent in a query string or a body', async () => {
      await fetch(`http://127.0.0.1:${port}/api/v1/nowhere?search=Zebulon%20Quixote&email=zebulon%40example.com&limit=5`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer very.secret.token' },
        body: JSON.stringify({ name: 'Zebulon Quixote', phone: '+1 555 0100', date_of_birth: '1980-01-02' }),
      });
      // The request's log line, once written (no guessed sleep).
      const logs = await eventually(app.logs, (l) => l.includes('/api/v1/nowhere'), { what: 'the request logged' });
      expect(logs).toContain('/api/v1/nowhere?search=[REDACTED]&email=[REDACTED]&limit=5');
      for (const phi of ['Zebulon', 'zebulon', 'example.com', '555 0100', '1980-01-02', 'very.secret.token']) expect(logs).not.toContain(phi);
    });

  });

  describe('stopping (an app of its own, without the demo seed: the others keep theirs running)', () => {
    let app: Awaited<ReturnType<typeof startApp>> | undefined;
    afterAll(() => stop(app), 60_000);

    it('shuts down on SIGTERM: exit code 0, embedded PostgreSQL stopped', async () => {
      app = await startApp({ DEMO_SEED: 'false' });
      const { child, dataDir } = app;
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    }, 120_000);
  });
});
