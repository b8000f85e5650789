/**
 * The engagement overview's latency through the real app at 1 client (issue #20's soak follow-up): uncached (every
 * call a 12-week window ending on another day, so never in the cache) and cached (one window again and again).
 *
 *   DATABASE_URL=postgres://.../bench TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/overview-probe.ts \
 *     [--org bench] [--calls 40]
 *
 * Read-only: it uses the user `npm run bench:soak` creates (soak-reader@example.test) and writes nothing itself (the
 * overview is not audited). The organization needs its rollup (`npm run engagement:rebuild -- --org <slug>`), else
 * the first call waits for the build and answers 503 not-ready.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createApp } from 'src/app.factory';
import { signDevToken } from 'src/auth/dev-token';
import { loadSettings } from 'src/config/settings';

const { values } = parseArgs({ options: { org: { type: 'string', default: 'bench' }, calls: { type: 'string', default: '40' } } });
const CALLS = Number(values.calls);
const DAY_MS = 86_400_000;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const summary = (ms: number[]): string => {
  const s = [...ms].sort((a, b) => a - b);
  return `n ${s.length}  p50 ${percentile(s, 50).toFixed(1)}  p95 ${percentile(s, 95).toFixed(1)}  p99 ${percentile(s, 99).toFixed(1)}  max ${(s[s.length - 1] ?? 0).toFixed(1)} ms`;
};

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  const org = (await admin.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows[0];
  const user = (await admin.query<{ id: string }>(`SELECT id FROM users WHERE email = 'soak-reader@example.test'`)).rows[0];
  await admin.end();
  if (!org || !user) throw new Error('No such organization, or no soak-reader user (run npm run bench:soak once first)');
  const secret = randomBytes(32).toString('base64');
  const settings = loadSettings({ ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', DEMO_SEED: 'false', JWT_SECRET: secret, PORT: '3394' });
  const app = await createApp({ settings, databaseUrl: url });
  await app.listen({ port: 3394, host: '127.0.0.1' });
  const token = signDevToken(secret, { sub: user.id }, { expiresIn: '1h' });
  const call = async (query: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:3394/api/v1/patients/${org.id}/engagement/overview${query}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`overview ${query} answered ${res.status}`);
    return ms;
  };
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  const today = Date.now();
  const uncached: number[] = [];
  for (let i = 1; i <= CALLS; i++) {
    const to = new Date(today - i * DAY_MS);
    uncached.push(await call(`?from=${day(new Date(to.getTime() - 83 * DAY_MS))}&to=${day(to)}&granularity=week`));
  }
  await call('');
  const cached: number[] = [];
  for (let i = 0; i < CALLS; i++) cached.push(await call(''));
  process.stdout.write(`engagement overview, organization ${values.org}, 1 client\n`);
  process.stdout.write(`  uncached (12-week windows, each ending on another day): ${summary(uncached)}\n`);
  process.stdout.write(`  cached (the default window again):                   ${summary(cached)}\n`);
  await app.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
