/**
 * Read benchmark (`npm run bench:read -- [--org bench] [--duration 8] [--connections 16] [--only profiles]`; `--only` takes prefixes of
 * scenario names separated by `|`, e.g. `--only 'profile (|risk summary|opportunities'`).
 *
 * Measures, in one run and side by side, the real application (its own process, all guards, audit and caching on)
 * and a floor server (bare node:http + pg, the same SQL and JSON: bench/read/floor-server.ts) against one seeded
 * organization of the DATABASE_URL database (default postgres://postgres@127.0.0.1:5432/test, org `bench`):
 * - throughput at `--connections` clients (autocannon), app / floor ratio;
 * - p95 latency at 1 client (a sequential loop timing each request; `--latency-requests`, default 400);
 * - CPU ms a request at `--connections` clients: each server's own (`*_cpu_ms_per_req`), the database's backends'
 *   while that server was measured (`*_pg_cpu_ms_per_req`: bench/write/pg-cpu.ts, the backends of DATABASE_URL's
 *   database and their parallel workers on this machine, not the server's background processes; NaN elsewhere) and
 *   the whole machine's (`*_machine_cpu_ms_per_req`: the load generator and everything else running included).
 * Both servers are compiled first (buildServers) and run as plain JavaScript; each scenario warms both up (a few
 * requests, then 2 s at full load) before it measures.
 * Every scenario is an entry of SCENARIOS (bench/read/scenarios.ts): add new endpoints there.
 *
 * To profile the app under the same load: BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (Node flags for the
 * app process only; the profile is written when the bench stops it); BENCH_FLOOR_NODE_ARGS the same for the floor's.
 * The database must be migrated already (`npm run migration:run`). The bench creates (once) a user `bench-reader@example.test` with the admin role in the organization and signs
 * a token with a throwaway JWT secret; the app runs with a rate limit high enough not to interfere.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { loadSettings } from 'src/config/settings';
import { BenchContext, SCENARIOS } from './read/scenarios';
import { benchReader, buildServers, compiled, cpuMs, latencyRun, startServer, throughputRun } from './read/harness';
import { machineBusyCpuMs } from './process-cpu';
import { PgCpuSampler } from './write/pg-cpu';
import { signDevToken } from 'src/auth/dev-token';
import { randomBytes } from 'node:crypto';

const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'bench' },
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    'latency-requests': { type: 'string', default: '400' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  // No migrations here: the database is shared and may be busy (a migration queued behind a long seed blocks every
  // reader of its table). The seed command migrates; so does `npm run migration:run`.
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  const { org, user } = await benchReader(admin, values.org!, ` in ${databaseUrl} (seed one: npm run seed -- --org ${values.org} --patients 20000)`);
  const patientCount = Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM patient_metrics WHERE organization_id = $1`, [org.id])).rows[0].n);
  const secret = randomBytes(32).toString('hex');
  const token = signDevToken(secret, { sub: user.id }, { expiresIn: '2h' });
  const ctx: BenchContext = { organizationId: org.id, patientCount, db: admin, appBase: 'http://127.0.0.1:3391', floorBase: 'http://127.0.0.1:3392', headers: { authorization: `Bearer ${token}` } };

  const settings = loadSettings(process.env);
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    // The checkout's DATA_DIR, where the seed's development PHI keys are (compiled into .bench-dist/, the servers
    // would otherwise take .bench-dist/.data and generate keys of their own: every page a 500).
    DATA_DIR: settings.dataDir,
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    DEMO_SEED: 'false',
    JWT_SECRET: secret,
    RATE_LIMIT_LIMIT: '1000000',
    RATE_LIMIT_IP_LIMIT: '1000000',
    DATABASE_POOL_SIZE: String(settings.databasePoolSize),
  };
  process.stderr.write(`Organization ${values.org} (${patientCount} patients); starting the app and the floor server...\n`);
  const appNodeArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  buildServers();
  const app = await startServer(compiled('bench/read/app-server.ts'), { ...env, PORT: '3391' }, appNodeArgs);
  const floorNodeArgs = (process.env.BENCH_FLOOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const floor = await startServer(compiled('bench/read/floor-server.ts'), { ...env, PORT: '3392' }, floorNodeArgs);
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const results: Record<string, unknown>[] = [];
  try {
    for (const scenario of SCENARIOS) {
      if (values.only && !values.only.split('|').some((prefix) => scenario.name.startsWith(prefix))) continue;
      const requests = await scenario.requests(ctx);
      const row: Record<string, unknown> = { scenario: scenario.name };
      if (scenario.appOnly) {
        Object.assign(row, scenario.measure ? await scenario.measure(ctx) : {}, scenario.target ? { target: scenario.target } : {});
        results.push(row);
        process.stderr.write(`${JSON.stringify(row)}\n`);
        continue;
      }
      // Warm both servers (connections, plans, caches) with the same requests, then a short burst at full load
      // each (not measured): the first load a process takes grows its heap, and the garbage collections that size it
      // fell in the first scenario's one-client run (its p95 went from 6-9 ms to 10-12 ms when run first).
      await latencyRun(ctx.appBase, requests, ctx.headers, 20);
      await latencyRun(ctx.floorBase, requests, {}, 20);
      if (!scenario.latencyOnly) {
        await throughputRun(ctx.appBase, requests, ctx.headers, connections, 2);
        await throughputRun(ctx.floorBase, requests, {}, connections, 2);
      }
      if (scenario.latencyOnly) {
        const a = await latencyRun(ctx.appBase, requests, ctx.headers, Math.min(Number(values['latency-requests']), scenario.latencyRequests ?? Infinity));
        const f = await latencyRun(ctx.floorBase, requests, {}, Math.min(Number(values['latency-requests']), scenario.latencyRequests ?? Infinity));
        Object.assign(row, { app_p95_ms: a.p95, app_p50_ms: a.p50, floor_p95_ms: f.p95, errors: a.errors + f.errors });
      } else {
        // Floor, app, app, floor (half the duration each): a load drift on the shared machine hits both alike.
        const half = Math.max(1, Math.round(duration / 2));
        // Besides each server's own CPU: the database's backends' (bench:write's sampler: the request's share in
        // PostgreSQL, the audit's appends included) and the machine's (everything, the load generator too).
        const measured = async (server: 'app' | 'floor'): Promise<{ rps: number; total: number; errors: number; cpu: number; pg: number; machine: number }> => {
          const pid = server === 'app' ? app.child.pid : floor.child.pid;
          const before = cpuMs(pid);
          const backends = new PgCpuSampler(databaseName);
          backends.start();
          const machineBefore = machineBusyCpuMs();
          const r = await throughputRun(server === 'app' ? ctx.appBase : ctx.floorBase, requests, server === 'app' ? ctx.headers : {}, connections, half);
          const pg = backends.stop();
          return { ...r, cpu: cpuMs(pid) - before, pg: pg === null ? Number.NaN : pg * 1000, machine: machineBusyCpuMs() - machineBefore };
        };
        const fa = await measured('floor');
        const aa = await measured('app');
        const ab = await measured('app');
        const fb = await measured('floor');
        const f16 = { rps: (fa.rps + fb.rps) / 2, errors: fa.errors + fb.errors };
        const a16 = { rps: (aa.rps + ab.rps) / 2, errors: aa.errors + ab.errors };
        const a1 = await latencyRun(ctx.appBase, requests, ctx.headers, Number(values['latency-requests']));
        const f1 = await latencyRun(ctx.floorBase, requests, {}, Number(values['latency-requests']));
        Object.assign(row, {
          app_rps: Math.round(a16.rps),
          floor_rps: Math.round(f16.rps),
          ratio: Math.round((a16.rps / f16.rps) * 100) / 100,
          app_p95_ms: a1.p95,
          app_p50_ms: a1.p50,
          floor_p95_ms: f1.p95,
          app_cpu_ms_per_req: Math.round(((aa.cpu + ab.cpu) / Math.max(1, aa.total + ab.total)) * 100) / 100,
          floor_cpu_ms_per_req: Math.round(((fa.cpu + fb.cpu) / Math.max(1, fa.total + fb.total)) * 100) / 100,
          app_pg_cpu_ms_per_req: Math.round(((aa.pg + ab.pg) / Math.max(1, aa.total + ab.total)) * 100) / 100,
          floor_pg_cpu_ms_per_req: Math.round(((fa.pg + fb.pg) / Math.max(1, fa.total + fb.total)) * 100) / 100,
          app_machine_cpu_ms_per_req: Math.round(((aa.machine + ab.machine) / Math.max(1, aa.total + ab.total)) * 100) / 100,
          floor_machine_cpu_ms_per_req: Math.round(((fa.machine + fb.machine) / Math.max(1, fa.total + fb.total)) * 100) / 100,
          errors: a16.errors + f16.errors + a1.errors + f1.errors,
        });
      }
      if (scenario.measure) Object.assign(row, await scenario.measure(ctx));
      if (scenario.target) row.target = scenario.target;
      results.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  } finally {
    app.stop();
    floor.stop();
    await admin.end();
  }
  console.table(results);
  if (values.out) writeFileSync(values.out, JSON.stringify({ organization: values.org, patients: patientCount, connections, duration, results }, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
