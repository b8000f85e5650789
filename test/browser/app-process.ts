import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'scripts', 'cli.js');

/** The app as a new user runs it (`npm start`): the built code, the embedded PostgreSQL, the demo clinic. */
export interface RunningApp {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  /** A development token, as `npm run --silent token -- --org <org> --role <role>` prints it. */
  token(org: string, role: string): string;
  /** SIGTERM, then waits for the app and everything it started (PostgreSQL) to exit; kills what is left. */
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `node scripts/cli.js main` (what `npm start` runs) without DATABASE_URL, in its own process group, with a
 * fresh DATA_DIR under the system's temporary folder and free ports, and waits until /health/ready answers 200.
 * The app's output goes to `logFile`.
 */
export async function startApp(logFile: string, readyTimeoutMs: number): Promise<RunningApp> {
  const dataDir = join(tmpdir(), `pj-browser-test-${process.pid}-${Date.now()}`);
  // As root, the embedded PostgreSQL runs as the postgres user, which must be able to enter this folder.
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  for (const name of [
    'DATABASE_URL',
    'REDIS_URL',
    'JWT_SECRET',
    'PHI_ENCRYPTION_KEYS',
    'PHI_BLIND_INDEX_KEY',
    'JWKS_URI',
    'CORS_ORIGINS',
  ]) {
    delete env[name];
  }
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(process.execPath, [CLI, 'main'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const pid = child.pid!;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Should Jest itself be stopped, nothing of the app may outlive it.
  const killGroup = (): void => {
    if (groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  };
  process.once('exit', killGroup);

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const app: RunningApp = {
    baseUrl,
    env,
    token(org: string, role: string): string {
      const result = spawnSync(process.execPath, [CLI, 'cli/token', '--org', org, '--role', role], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60000,
      });
      if (result.status !== 0) throw new Error(`The token command failed (exit ${result.status}): ${result.stderr}`);
      return result.stdout.trim();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      if (!exited) child.kill('SIGTERM');
      // The app closes its HTTP server, then stops the embedded PostgreSQL (a fast shutdown), then exits.
      const clean = await waitFor(() => exited && !groupAlive(pid), 30000);
      killGroup();
      process.off('exit', killGroup);
      log.end();
      if (clean) rmSync(dataDir, { recursive: true, force: true });
      if (!clean)
        throw new Error(`The app (process group ${pid}) did not stop within 30 s of SIGTERM: killed it; its data stays in ${dataDir}`);
    },
  };

  const up = await waitFor(async () => exited || (await ready(`${baseUrl}/health/ready`)), readyTimeoutMs, 500);
  if (!up || exited) {
    await app.stop().catch(() => undefined);
    throw new Error(
      `The app did not become ready at ${baseUrl}/health/ready within ${readyTimeoutMs / 1000} s${exited ? ' (it exited)' : ''}: see ${logFile}`,
    );
  }
  return app;
}
