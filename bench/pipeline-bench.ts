/**
 * CPU per request of the app's whole pipeline for one route, without sockets (`npm run bench:pipeline -- --org lp
 * --route risk-summary [--n 20000] [--concurrency 16]`): the app is built in this process (createApp, every guard,
 * interceptor, the audit, row-level security) and asked through Fastify's `inject`, `--concurrency` requests at a time;
 * the figure is this process's CPU (user + system, process.cpuUsage) per request over `--n` requests after a warm-up
 * of `--n / 4`. PostgreSQL's CPU is not in it. On a shared machine this moves far less with the other load than the
 * HTTP bench's figures (no socket writes, no scheduling of a second process); `inject`'s own cost is in both sides of
 * a comparison. Routes: `risk-summary`, `profile` (random patients), `opportunities`.
 * Needs the database bench:read uses (DATABASE_URL, the organization seeded, the `bench-reader@example.test` user).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createApp } from 'src/app.factory';
import { signDevToken } from 'src/auth/dev-token';
import { loadSettings } from 'src/config/settings';
import { benchReader } from './read/harness';

const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'bench' },
    route: { type: 'string', default: 'risk-summary' },
    n: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
  },
});

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  const { org, user } = await benchReader(admin, values.org!);
  const patients = (
    await admin.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics TABLESAMPLE SYSTEM (1) WHERE organization_id = $1 LIMIT 500`, [org.id])
  ).rows.map((r) => r.id);
  await admin.end();

  const secret = randomBytes(32).toString('hex');
  const env = { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'development', LOG_LEVEL: 'silent', DEMO_SEED: 'false', JWT_SECRET: secret, RATE_LIMIT_LIMIT: '1000000', RATE_LIMIT_IP_LIMIT: '1000000' };
  const settings = loadSettings(env);
  const app = await createApp({ settings, databaseUrl });
  const fastify = app.getHttpAdapter().getInstance();
  const headers = { authorization: `Bearer ${signDevToken(secret, { sub: user.id }, { expiresIn: '2h' })}` };
  const base = `/api/v1/patients/${org.id}`;
  const url = (i: number): string =>
    values.route === 'profile' ? `${base}/profile/${patients[i % patients.length]}` : values.route === 'opportunities' ? `${base}/opportunities` : `${base}/risk-summary`;

  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  let errors = 0;
  const run = async (count: number): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const res = await fastify.inject({ method: 'GET', url: url(next++), headers });
        if (res.statusCode !== 200) errors++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await run(Math.ceil(n / 4));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(n);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await app.close();
  process.stdout.write(
    `${JSON.stringify({ route: values.route, n, concurrency, cpu_us_per_req: Math.round((cpu.user + cpu.system) / n), wall_ms: Math.round(wall), errors })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
