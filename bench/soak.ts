/**
 * `npm run bench:soak` (issue #20): sustained load on the real app, every read endpoint mixed with ingestion.
 *
 *   DATABASE_URL=postgres://.../<a copy of the 1,000,000-patient clinic> npm run bench:soak -- [--org bench] [--clients 64] [--seconds 60]
 *
 * Never point it at a database others use: the ingestion writes (patients `soak-*` of source `soak`). The database
 * must be migrated, and DATA_DIR must hold the PHI keys it was seeded with (else every answer with PHI is a 500:
 * PhiDecryptError); its snapshots should exist (`npm run opportunities:refresh` and `engagement:rebuild`, or a
 * recompute with the app running), else the first reads wait for their builds and answer 503 not-ready. The app runs in this process (SOAK_CLIENTS, SOAK_SECONDS or the flags above), with a rate limit
 * high enough not to interfere; the load generator is node:http with keep-alive, bounded in count and time, and only
 * ever talks to 127.0.0.1. It prints, per 10-second window: per route the request count, p50/p95/p99/max (ms), the
 * 5xx count by status and problem type, the answers marked stale (Cache-Status), the RSS and the pool's use; then the totals, the RSS growth between the second and the last window (goal < 10%),
 * and the audit check: events recorded for the run's reads with patient data against the 200s that carried patient
 * data (goal: equal).
 */
import 'reflect-metadata';
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createApp } from 'src/app.factory';
import { signDevToken } from 'src/auth/dev-token';
import { loadSettings } from 'src/config/settings';
import { Database } from 'src/database/database';

const { values } = parseArgs({
  options: {
    org: { type: 'string', default: 'bench' },
    clients: { type: 'string' },
    seconds: { type: 'string' },
    port: { type: 'string', default: '3393' },
  },
});
const CLIENTS = Number(values.clients ?? process.env.SOAK_CLIENTS ?? 64);
const SECONDS = Number(values.seconds ?? process.env.SOAK_SECONDS ?? 60);
const WINDOW_MS = 10_000;
const PORT = Number(values.port);

interface Route {
  name: string;
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => string;
  /** An answer with patient data: audited. */
  audited: boolean;
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** One route's requests in a window (or in all): times (ms), 5xx (by status and problem type), failures, stale marks. */
interface RouteStats {
  ms: number[];
  errors5xx: number;
  kinds: Map<string, number>;
  failed: number;
  stale: number;
}

const emptyStats = (): RouteStats => ({ ms: [], errors5xx: 0, kinds: new Map(), failed: 0, stale: 0 });

/** A route's line: count, p50/p95/p99/max (ms), 5xx with their kinds, failed connections, answers marked stale. */
function line(name: string, s: RouteStats): string {
  const sorted = [...s.ms].sort((a, b) => a - b);
  const at = (p: number): string => percentile(sorted, p).toFixed(1).padStart(8);
  const kinds = s.kinds.size === 0 ? '' : ` (${[...s.kinds].map(([k, n]) => `${n} × ${k}`).join(', ')})`;
  const max = (sorted.length === 0 ? 0 : sorted[sorted.length - 1]).toFixed(1).padStart(8);
  return `  ${name.padEnd(30)} n ${String(s.ms.length).padStart(6)}  p50 ${at(50)}  p95 ${at(95)}  p99 ${at(99)}  max ${max}  5xx ${s.errors5xx}${kinds}  failed ${s.failed}  stale ${s.stale}\n`;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required (a database of your own: the soak writes)');
  const secret = randomBytes(32).toString('base64');
  const admin = new Client({ connectionString: url });
  await admin.connect();
  const org = (await admin.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows[0];
  if (!org) throw new Error(`No organization with slug "${values.org}"`);
  const user = (
    await admin.query<{ id: string }>(
      `INSERT INTO users (email, name) VALUES ('soak-reader@example.test', 'Soak Reader') ON CONFLICT (email) DO UPDATE SET name = excluded.name RETURNING id`,
    )
  ).rows[0];
  await admin.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'admin') ON CONFLICT DO NOTHING`, [
    org.id,
    user.id,
  ]);
  const patientIds = (
    await admin.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics WHERE organization_id = $1 LIMIT 500`, [org.id])
  ).rows.map((r) => r.id);
  if (patientIds.length === 0) throw new Error('The organization has no scored patients');
  const startSeq = (
    await admin.query<{ n: string }>(`SELECT coalesce(max(seq), 0) AS n FROM audit_events WHERE organization_id = $1`, [org.id])
  ).rows[0].n;

  const settings = loadSettings({
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    JWT_SECRET: secret,
    RATE_LIMIT_LIMIT: '1000000',
    RATE_LIMIT_IP_LIMIT: '1000000',
    PORT: String(PORT),
  });
  const app = await createApp({ settings, databaseUrl: url });
  await app.listen({ port: PORT, host: '127.0.0.1' });
  const database = app.get(Database);
  const token = signDevToken(secret, { sub: user.id }, { expiresIn: '2h' });
  const o = org.id;
  const pick = (): string => patientIds[Math.floor(Math.random() * patientIds.length)];
  let ingestSeq = 0;
  const routes: Route[] = [
    { name: 'listPatientProfiles', method: 'GET', path: () => `/api/v1/patients/${o}/profiles?limit=50&sort_by=risk_score`, audited: true },
    { name: 'listPatientProfiles (search)', method: 'GET', path: () => `/api/v1/patients/${o}/profiles?limit=20&search=an`, audited: true },
    { name: 'getPatientProfile', method: 'GET', path: () => `/api/v1/patients/${o}/profile/${pick()}`, audited: true },
    { name: 'getPatientJourney', method: 'GET', path: () => `/api/v1/patients/${o}/journey/${pick()}`, audited: true },
    { name: 'listOpportunities', method: 'GET', path: () => `/api/v1/patients/${o}/opportunities?limit=50`, audited: true },
    { name: 'getRiskSummary', method: 'GET', path: () => `/api/v1/patients/${o}/risk-summary`, audited: false },
    { name: 'getEngagementOverview', method: 'GET', path: () => `/api/v1/patients/${o}/engagement/overview`, audited: false },
    {
      name: 'ingestRecords',
      method: 'POST',
      path: () => `/api/v1/ingest/${o}/records`,
      body: () => {
        const n = ingestSeq++;
        const records = Array.from({ length: 20 }, (_, i) => ({
          record_type: 'patient',
          source: 'soak',
          external_id: `soak-${n % 500}-${i}`,
          name: `Soak Patient ${n % 500} ${i}`,
        }));
        return JSON.stringify({ records });
      },
      audited: false,
    },
  ];

  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const send = (route: Route): Promise<{ status: number; patientData: boolean; problem: string | null; stale: boolean }> =>
    new Promise((ok) => {
      const body = route.body?.();
      const req = request(
        {
          host: '127.0.0.1',
          port: PORT,
          method: route.method,
          path: route.path(),
          agent,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => {
            if (status >= 500) chunks.push(d);
          });
          res.on('end', () => {
            // A 5xx's problem type (service-unavailable, not-ready, internal-error...), to tell them apart.
            let problem: string | null = null;
            if (status >= 500) {
              try {
                problem = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string }).type ?? '').replace(/^.*\//, '');
              } catch {
                problem = 'unparsed';
              }
            }
            const stale = /stale/.test(String(res.headers['cache-status'] ?? ''));
            ok({ status, patientData: status === 200, problem, stale });
          });
        },
      );
      req.on('error', () => ok({ status: 0, patientData: false, problem: null, stale: false }));
      req.end(body);
    });

  type Stats = Map<string, RouteStats>;
  const windows: { stats: Stats; rssMb: number; pool: ReturnType<Database['poolStats']>; poolWaitingMax: number }[] = [];
  let current: Stats = new Map();
  let poolWaitingMax = 0;
  let auditedOk = 0;
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  const sampler = setInterval(() => (poolWaitingMax = Math.max(poolWaitingMax, database.poolStats().waiting)), 100);
  const windowTimer = setInterval(() => {
    windows.push({ stats: current, rssMb: process.memoryUsage().rss / 1_048_576, pool: database.poolStats(), poolWaitingMax });
    current = new Map();
    poolWaitingMax = 0;
  }, WINDOW_MS);

  const client = async (i: number): Promise<void> => {
    for (let n = i; Date.now() < deadline; n++) {
      const route = routes[n % routes.length];
      const t0 = performance.now();
      const res = await send(route);
      const ms = performance.now() - t0;
      const s = current.get(route.name) ?? emptyStats();
      s.ms.push(ms);
      if (res.status >= 500) {
        s.errors5xx++;
        const kind = `${res.status} ${res.problem ?? ''}`.trim();
        s.kinds.set(kind, (s.kinds.get(kind) ?? 0) + 1);
      }
      if (res.status === 0) s.failed++;
      if (res.stale) s.stale++;
      current.set(route.name, s);
      if (route.audited && res.status === 200) auditedOk++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  clearInterval(windowTimer);
  clearInterval(sampler);
  if ([...current.values()].some((s) => s.ms.length > 0))
    windows.push({ stats: current, rssMb: process.memoryUsage().rss / 1_048_576, pool: database.poolStats(), poolWaitingMax });
  agent.destroy();
  await app.close();

  process.stdout.write(`soak: ${CLIENTS} clients, ${SECONDS} s, organization ${values.org}\n`);
  const totals = new Map<string, RouteStats>();
  windows.forEach((w, k) => {
    process.stdout.write(
      `\nwindow ${k + 1} (${k * 10}-${(k + 1) * 10} s): RSS ${w.rssMb.toFixed(0)} MB, pool total ${w.pool.total} idle ${w.pool.idle} waiting max ${w.poolWaitingMax}\n`,
    );
    for (const [name, s] of w.stats) {
      process.stdout.write(line(name, s));
      const t = totals.get(name) ?? emptyStats();
      for (const ms of s.ms) t.ms.push(ms);
      t.errors5xx += s.errors5xx;
      t.failed += s.failed;
      t.stale += s.stale;
      for (const [k, n] of s.kinds) t.kinds.set(k, (t.kinds.get(k) ?? 0) + n);
      totals.set(name, t);
    }
  });
  process.stdout.write(`\ntotals\n`);
  let all5xx = 0;
  for (const [name, s] of totals) {
    all5xx += s.errors5xx;
    process.stdout.write(line(name, s));
  }
  const second = windows[1] ?? windows[0];
  const last = windows[windows.length - 1];
  const growth = second && last ? ((last.rssMb - second.rssMb) / second.rssMb) * 100 : 0;
  const events = (
    await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND seq > $2 AND action IN ('list', 'read') AND status_code = 200 AND actor_id = $3`,
      [org.id, startSeq, user.id],
    )
  ).rows[0].n;
  process.stdout.write(`\n5xx: ${all5xx} (goal 0)\nRSS growth second → last window: ${growth.toFixed(1)}% (goal < 10%)\n`);
  process.stdout.write(
    `audit: ${events} events for ${auditedOk} answers with patient data (goal: equal) → ${events === auditedOk ? 'OK' : 'MISMATCH'}\n`,
  );
  await admin.end();
  process.exit(all5xx === 0 && events === auditedOk ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
