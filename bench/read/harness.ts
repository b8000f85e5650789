import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import type { Client } from 'pg';
import { processCpuMs } from '../process-cpu';

const ROOT = resolve(__dirname, '../..');

/**
 * Compiles the two servers (and the sources they import) with tsc into `.bench-dist/` (bench/read/tsconfig.json,
 * then tsc-alias for the `src/...` imports), about 15 s. Both then run as plain JavaScript, as the app does in
 * production: under ts-node each process also held the TypeScript compiler in its heap, which every major garbage
 * collection walked (an idle app under ts-node used 7 % of a core), and paid ts-node's hooks.
 */
export function buildServers(): void {
  // BENCH_SKIP_BUILD=1: reuse the servers compiled by an earlier run (alternated runs of unchanged code on a loaded machine).
  if (process.env.BENCH_SKIP_BUILD === '1') return;
  for (const [bin, args] of [['tsc', ['-p', 'bench/read/tsconfig.json']], ['tsc-alias', ['-p', 'bench/read/tsconfig.json']]] as const) {
    const r = spawnSync(resolve(ROOT, 'node_modules/.bin', bin), args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`${bin} failed building the benchmark servers`);
  }
}

/** The compiled server script for a `bench/read/*.ts` source (after buildServers). */
export const compiled = (script: string): string => resolve(ROOT, '.bench-dist', script.replace(/\.ts$/, '.js'));

/**
 * Starts a server script in its own Node process; resolves when it prints `listening`. A `.js` script (buildServers'
 * output) runs as it is, a `.ts` one through ts-node. `nodeArgs` go before the script (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS does not allow).
 */
export function startServer(script: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Promise<{ stop(): void; child: ChildProcess }> {
  const loader = script.endsWith('.js') ? [] : ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, script], {
    cwd: ROOT,
    env: { ...env, TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start within 120 s`)), 120_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        ok({ child, stop: () => void child.kill('SIGTERM') });
      }
    });
    child.on('exit', (code) => fail(new Error(`${script} exited with ${code}`)));
  });
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux). Per-request CPU of each server is
 * the bench's load-robust figure: wall-clock rates on a shared 2-core machine drift with everything else running.
 */
export function cpuMs(pid: number | undefined): number {
  return processCpuMs(pid);
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function get(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((ok, fail) => {
    const req = httpRequest(`${base}${path}`, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.end();
  });
}

const percentile = (sorted: number[], p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] * 100) / 100;

/** One client, sequential requests cycling through `paths`: p50/p95 in ms. */
export async function latencyRun(base: string, paths: string[], headers: Record<string, string>, n: number): Promise<{ p50: number; p95: number; errors: number }> {
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const status = await get(base, paths[i % paths.length], headers);
    times.push(performance.now() - t0);
    if (status !== 200) errors++;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), errors };
}

/** `connections` clients for `duration` seconds (autocannon), each cycling through `paths`: requests per second. */
export async function throughputRun(base: string, paths: string[], headers: Record<string, string>, connections: number, duration: number): Promise<{ rps: number; total: number; errors: number }> {
  const result = await autocannon({
    url: base,
    connections,
    duration,
    headers,
    requests: paths.map((path) => ({ method: 'GET' as const, path })),
  });
  return { rps: result.requests.average, total: result.requests.total, errors: result.errors + result.non2xx };
}

/**
 * The benchmarks' reader: the organization `slug` (an error naming `hint` when it is not there) and the
 * `bench-reader@example.test` user, made an admin of it (created the first time).
 */
export async function benchReader(admin: Client, slug: string, hint = ''): Promise<{ org: { id: string }; user: { id: string } }> {
  const org = (await admin.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [slug])).rows[0];
  if (!org) throw new Error(`No organization "${slug}"${hint}`);
  const user = (
    await admin.query<{ id: string }>(
      `INSERT INTO users (email, name) VALUES ('bench-reader@example.test', 'Bench Reader')
       ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id`,
    )
  ).rows[0];
  await admin.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'admin') ON CONFLICT DO NOTHING`, [org.id, user.id]);
  return { org, user };
}
