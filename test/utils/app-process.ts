import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The real server as a process of its own (`node dist/main.js`, as `npm start` runs it), for signal tests. */
const root = resolve(__dirname, '../..');

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/ (as scripts/cli.js does before `npm start`). */
export function ensureBuilt(): void {
  const stamp = join(root, 'dist', '.build-stamp');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestTs(join(root, 'src'))) return;
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.js')], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export interface AppProcess {
  child: ChildProcess;
  port: number;
  base: string;
  dataDir: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Started as a process group of its own (`via: 'npm'`). */
  group: boolean;
}

/**
 * Starts `node dist/main.js` on `databaseUrl` (no demo seed, a fixed JWT secret, PHI keys under a fresh DATA_DIR
 * unless `env` names them), and waits until /health/ready answers 200. `via: 'npm'`: as `npm start` (npm, then
 * scripts/cli.js, then the app), in a process group of its own so that `killAppProcess` ends all three.
 */
export async function startAppProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
  dataDir?: string,
  options: { via?: 'node' | 'npm' } = {},
): Promise<AppProcess> {
  ensureBuilt();
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'pj-proc-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const viaNpm = options.via === 'npm';
  const child = spawn(viaNpm ? 'npm' : process.execPath, viaNpm ? ['start'] : [join(root, 'dist', 'main.js')], {
    cwd: root,
    detached: viaNpm,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      DEMO_SEED: 'false',
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
      DATA_DIR: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      ...env,
    },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((ok) => child.once('exit', (code, signal) => ok(code ?? signal ?? 'unknown')));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}: ${out}`);
    try {
      if ((await fetch(`${base}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the app did not become ready: ${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, port, base, dataDir: dir, output: () => out, exited, group: viaNpm };
}

/** Whether any process of the group led by `pid` is alive. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends a process this test started, if it still runs (SIGKILL; with `via: 'npm'`, its whole process group). */
export async function killAppProcess(app: AppProcess | undefined): Promise<void> {
  if (!app) return;
  const pid = app.child.pid;
  if (app.group && pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL');
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  app.child.kill('SIGKILL');
  await app.exited;
}
