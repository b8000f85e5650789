/**
 * Journey, engagement overview and opportunities benchmark (issue 7):
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/journey-bench.ts \
 *     [--database pj_journey_bench] [--patients 1000000] [--seconds 10] [--generate]
 * Needs DATABASE_URL (a server). `--generate` migrates the database and fills it with bench/journey-data.sql
 * (a Europe/Berlin clinic of N patients, "now" = 2026-11-24T12:00Z) through psql.
 *
 * Measures, against the real app (auth, audit, validation, all of it) on a random port with a fixed clock:
 * - journey and opportunities (first page) latency at 1 client: p50/p95/p99 over --seconds;
 * - engagement overview: its rollup built first, then uncached (every call a new window) and cached (the same window);
 * - throughput at 16 clients of journey and opportunities, next to a floor: the same SQL statements (same
 *   transaction and set_config as TenantDb) through bare `pg` in a bare `node:http` server, measured in the run.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Client, Pool } from 'pg';
import { signDevToken } from 'src/auth/dev-token';
import { createApp } from 'src/app.factory';
import { FixedClock } from 'src/common/clock/clock';
import { loadSettings } from 'src/config/settings';
import { runMigrations } from 'src/database/migrate';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { JOURNEY_SQL } from 'src/journey/journey.repository';
import { OPPORTUNITIES_PAGE_SQL } from 'src/opportunities/opportunities.repository';

const ORG = '00000000-0000-4000-8000-00000000b001';
const NOW = new Date('2026-11-24T12:00:00.000Z');

const { values } = parseArgs({
  options: {
    database: { type: 'string', default: 'pj_journey_bench' },
    patients: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    generate: { type: 'boolean', default: false },
  },
});
const server = process.env.DATABASE_URL;
if (!server) throw new Error('DATABASE_URL is required');
const dbUrl = (() => {
  const u = new URL(server);
  u.pathname = `/${values.database}`;
  return u.toString();
})();
const seconds = Number(values.seconds);

interface Stats {
  n: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `clients` loops issuing requests back to back for `secs`; exact percentiles of every latency. */
async function load(port: number, clients: number, secs: number, path: () => string, headers: Record<string, string>): Promise<Stats> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + secs * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const status = await request(port, path(), headers);
        lat.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { n: lat.length, rps: lat.length / elapsed, p50: q(0.5), p95: q(0.95), p99: q(0.99), errors };
}

const fmt = (s: Stats): string =>
  `${s.n} req, ${s.rps.toFixed(0)} req/s, p50 ${s.p50.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms${s.errors ? `, ${s.errors} non-200` : ''}`;

/** The floor: the same statements through bare pg in a bare node:http server. */
function floorServer(pool: Pool): http.Server {
  const run = async (sql: string, params: unknown[]): Promise<unknown[]> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT set_config('app.organization_id', $1, true)`, [ORG]);
      const r = await c.query(sql, params);
      await c.query('COMMIT');
      return r.rows;
    } finally {
      c.release();
    }
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const work =
      url.pathname === '/journey'
        ? run(JOURNEY_SQL, [ORG, url.searchParams.get('id'), NOW, 50])
        : run(OPPORTUNITIES_PAGE_SQL, [ORG, null, null, 50, 0]);
    work.then(
      (rows) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(rows));
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
  });
}

async function main(): Promise<void> {
  const n = Number(values.patients);
  if (values.generate) {
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${values.database}"`).catch(() => undefined);
    await admin.end();
    await runMigrations(dbUrl);
    const t0 = Date.now();
    execFileSync('psql', [dbUrl, '-q', '-v', `n=${n}`, '-v', `now='${NOW.toISOString()}'`, '-f', 'bench/journey-data.sql'], { stdio: 'inherit' });
    process.stderr.write(`generated ${n} patients in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }

  const owner = new Client({ connectionString: dbUrl });
  await owner.connect();
  const count = await owner.query<{ n: string }>(`SELECT count(*) AS n FROM patients WHERE organization_id = $1`, [ORG]);
  const email = `bench-${randomUUID()}@example.test`;
  const user = await owner.query<{ id: string }>(`INSERT INTO users (email, name) VALUES ($1, 'Bench') RETURNING id`, [email]);
  await owner.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'admin')`, [ORG, user.rows[0].id]);
  const ids = (await owner.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY random() LIMIT 5000`, [ORG])).rows.map((r) => r.id);
  await owner.end();

  const secret = 'bench-secret-bench-secret-bench-secret-0123';
  const settings = loadSettings({
    NODE_ENV: 'development', // production accepts only identity-provider tokens (JWKS); the bench signs HS256 dev tokens
    DATA_DIR: '.data/bench',
    LOG_LEVEL: 'silent',
    DEMO_SEED: 'false',
    DATABASE_URL: dbUrl,
    JWT_SECRET: secret,
    PHI_ENCRYPTION_KEYS: process.env.PHI_ENCRYPTION_KEYS ?? `v1:${Buffer.alloc(32, 7).toString('base64')}`,
    PHI_BLIND_INDEX_KEY: process.env.PHI_BLIND_INDEX_KEY ?? Buffer.alloc(32, 9).toString('base64'),
    RATE_LIMIT_LIMIT: '1000000',
    RATE_LIMIT_IP_LIMIT: '1000000',
  });
  const app = await createApp({ settings, databaseUrl: dbUrl, clock: new FixedClock(NOW) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const headers = { authorization: `Bearer ${signDevToken(secret, { sub: user.rows[0].id }, { expiresIn: '2h' })}` };
  const pick = (): string => ids[Math.floor(Math.random() * ids.length)];
  const base = `/api/v1/patients/${ORG}`;

  process.stdout.write(`journey bench: ${Number(count.rows[0].n).toLocaleString('en-US')} patients, pool ${settings.databasePoolSize}\n`);

  // Warm-up, and the opportunities snapshot (built on the first request when there is none).
  let t0 = performance.now();
  await request(port, `${base}/opportunities`, headers);
  process.stdout.write(`opportunities first request (snapshot build when missing): ${(performance.now() - t0).toFixed(0)} ms\n`);
  await load(port, 4, 2, () => `${base}/journey/${pick()}`, headers);

  const journey1 = await load(port, 1, seconds, () => `${base}/journey/${pick()}`, headers);
  process.stdout.write(`journey, 1 client: ${fmt(journey1)}\n`);
  const opp1 = await load(port, 1, seconds, () => `${base}/opportunities`, headers);
  process.stdout.write(`opportunities first page, 1 client: ${fmt(opp1)}\n`);

  // The engagement overview's rollup (built in the background by the first overview when missing; here first).
  t0 = performance.now();
  const built = await app.get(EngagementRollupService).rebuild(ORG);
  process.stdout.write(`engagement rollup build: ${built.patients} patients, ${built.steps} steps in ${(performance.now() - t0).toFixed(0)} ms\n`);

  const uncached: number[] = [];
  // Four-week windows (different keys, so uncached), then the default 12-week window.
  for (let i = 0; i < 5; i++) {
    const from = `2026-0${i + 1}-01`;
    const to = `2026-0${i + 1}-28`;
    t0 = performance.now();
    const status = await request(port, `${base}/engagement/overview?from=${from}&to=${to}`, headers);
    uncached.push(performance.now() - t0);
    if (status !== 200) process.stdout.write(`engagement status ${status}\n`);
  }
  t0 = performance.now();
  await request(port, `${base}/engagement/overview`, headers);
  const defaultUncached = performance.now() - t0;
  process.stdout.write(
    `engagement overview uncached: default 12-week window ${defaultUncached.toFixed(0)} ms; 4-week windows ${uncached.map((x) => x.toFixed(0)).join(', ')} ms\n`,
  );
  const cached = await load(port, 1, Math.min(seconds, 5), () => `${base}/engagement/overview`, headers);
  process.stdout.write(`engagement overview cached, 1 client: ${fmt(cached)}\n`);

  const pool = new Pool({ connectionString: dbUrl, max: settings.databasePoolSize, options: '-c role=patient_journey_app -c timezone=UTC' });
  const floor = floorServer(pool);
  await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
  const fport = (floor.address() as AddressInfo).port;

  for (const [name, appPath, floorPath] of [
    ['journey', () => `${base}/journey/${pick()}`, () => `/journey?id=${pick()}`],
    ['opportunities', () => `${base}/opportunities`, () => `/opportunities`],
  ] as const) {
    const f = await load(fport, 16, seconds, floorPath, {});
    const a = await load(port, 16, seconds, appPath, headers);
    process.stdout.write(`${name}, 16 clients: app ${fmt(a)}\n${name}, 16 clients: floor ${fmt(f)}\n`);
    process.stdout.write(`${name}: app throughput = ${((a.rps / f.rps) * 100).toFixed(0)}% of the floor (target ≥ 60%)\n`);
  }

  floor.close();
  await pool.end();
  await app.close();
  agent.destroy();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
