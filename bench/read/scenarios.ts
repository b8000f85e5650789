import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'pg';
import { RUNTIME_ROLE } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { PatientCountsRepository } from 'src/patients/patient-counts.repository';
import { latencyRun } from './harness';

export interface BenchContext {
  organizationId: string;
  patientCount: number;
  /** Owner connection to the benchmark database. */
  db: Client;
  appBase: string;
  floorBase: string;
  /** Headers the app needs (bearer token); the floor takes none. */
  headers: Record<string, string>;
}

export interface Scenario {
  name: string;
  /** The target, printed next to the figures. */
  target?: string;
  /** Only p50/p95 at one client (no throughput run), e.g. deep offsets. */
  latencyOnly?: boolean;
  /** No generic runs at all (the floor does not serve it): only `measure`. */
  appOnly?: boolean;
  latencyRequests?: number;
  /** The request paths (under the API root) the clients cycle through; identical for app and floor. */
  requests(ctx: BenchContext): Promise<string[]>;
  /** Extra figures measured by the scenario itself (reported with the row). */
  measure?(ctx: BenchContext): Promise<Record<string, unknown>>;
}

const SORTS = ['name', 'ltv', 'last_appointment', 'risk_score'] as const;
const STATUSES = ['all', 'active', 'dormant', 'at_risk'] as const;

const base = (ctx: BenchContext): string => `/api/v1/patients/${ctx.organizationId}`;

async function nextCursor(ctx: BenchContext, query: string): Promise<string | null> {
  const res = await fetch(`${ctx.floorBase}${base(ctx)}/profiles${query}`);
  const body = (await res.json()) as { next_cursor: string | null };
  return body.next_cursor;
}

/** Cursor pages at several depths of one sort, for every status filter (cursors taken from offset pages). */
async function cursorPages(ctx: BenchContext, sort: string): Promise<string[]> {
  const out: string[] = [];
  for (const status of STATUSES) {
    const size = status === 'all' ? ctx.patientCount : Math.floor(ctx.patientCount / 4);
    for (const fraction of [0.001, 0.1, 0.4, 0.7]) {
      const cursor = await nextCursor(ctx, `?sort=${sort}&status=${status}&offset=${Math.floor(size * fraction)}`);
      if (cursor) out.push(`${base(ctx)}/profiles?cursor=${cursor}`);
    }
  }
  return out;
}

/** Time the uncached path of the risk summary and counts: the counts statement as the app sends it (TenantDb.statements). */
async function uncachedCounts(ctx: BenchContext): Promise<Record<string, unknown>> {
  const pool = new Pool({ ...clientConfig(ctx.db), options: `-c timezone=UTC -c role=${RUNTIME_ROLE}`, max: 1 });
  const tenants = new TenantDb(pool);
  const repo = new PatientCountsRepository();
  const times: number[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await tenants.statements(ctx.organizationId, (db) => repo.organizationCounts(db));
      if (i >= 10) times.push(performance.now() - t0);
    }
  } finally {
    await pool.end();
  }
  times.sort((a, b) => a - b);
  return { uncached_sql_p95_ms: Math.round(times[Math.floor(times.length * 0.95)] * 100) / 100 };
}

/**
 * The engagement overview through the app, at one client: uncached = 40 different 12-week windows (ending 0..39
 * days ago), each asked once, after 3 other windows as a warm-up (as every scenario warms up: the first statement
 * of the process and of each pooled connection pays for JIT and catalog loading, about a second here); cached =
 * the default window asked 200 times after a first request.
 */
async function engagementTimes(ctx: BenchContext): Promise<Record<string, unknown>> {
  const day = (d: number): string => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  const window = (k: number): string => `${base(ctx)}/engagement/overview?from=${day(83 + k)}&to=${day(k)}&granularity=week`;
  await latencyRun(ctx.appBase, [40, 41, 42].map(window), ctx.headers, 3);
  const windows = Array.from({ length: 40 }, (_, k) => window(k));
  const uncached = await latencyRun(ctx.appBase, windows, ctx.headers, windows.length);
  const path = `${base(ctx)}/engagement/overview`;
  await latencyRun(ctx.appBase, [path], ctx.headers, 1);
  const cached = await latencyRun(ctx.appBase, [path], ctx.headers, 200);
  return {
    uncached_p50_ms: uncached.p50,
    uncached_p95_ms: uncached.p95,
    cached_p50_ms: cached.p50,
    cached_p95_ms: cached.p95,
    errors: uncached.errors + cached.errors,
  };
}

function clientConfig(db: Client): { host?: string; port?: number; user?: string; database?: string; password?: string } {
  const c = db as unknown as { host: string; port: number; user: string; database: string; password?: string };
  return { host: c.host, port: c.port, user: c.user, database: c.database, password: c.password ?? undefined };
}

export const SCENARIOS: Scenario[] = [
  ...SORTS.map(
    (sort): Scenario => ({
      name: `profiles first pages sort=${sort} (all statuses)`,
      target: '16 clients >= 70% of floor; p95 at 1 client <= 10 ms',
      requests: async (ctx) => STATUSES.map((status) => `${base(ctx)}/profiles?sort=${sort}&status=${status}`),
    }),
  ),
  ...SORTS.map(
    (sort): Scenario => ({
      name: `profiles cursor pages sort=${sort} (all statuses, 4 depths)`,
      target: '16 clients >= 70% of floor; p95 at 1 client <= 10 ms',
      requests: (ctx) => cursorPages(ctx, sort),
    }),
  ),
  {
    name: 'profile (random patients, history 50)',
    target: '16 clients >= 60% of floor; p95 at 1 client <= 15 ms',
    requests: async (ctx) => {
      const { rows } = await ctx.db.query<{ id: string }>(
        `SELECT patient_id AS id FROM patient_metrics TABLESAMPLE SYSTEM (1) WHERE organization_id = $1 LIMIT 500`,
        [ctx.organizationId],
      );
      return rows.map((r) => `${base(ctx)}/profile/${r.id}`);
    },
  },
  {
    name: 'risk summary (cached)',
    target: 'p95 <= 5 ms cached, <= 500 ms uncached',
    requests: async (ctx) => [`${base(ctx)}/risk-summary`],
    measure: uncachedCounts,
  },
  {
    name: 'journey (random patients, 50 touchpoints)',
    target: '16 clients >= 60% of floor; p95 at 1 client <= 15 ms',
    requests: async (ctx) => {
      const { rows } = await ctx.db.query<{ id: string }>(
        `SELECT patient_id AS id FROM patient_metrics TABLESAMPLE SYSTEM (1) WHERE organization_id = $1 LIMIT 500`,
        [ctx.organizationId],
      );
      return rows.map((r) => `${base(ctx)}/journey/${r.id}`);
    },
  },
  {
    name: 'opportunities first pages (all, by type, by priority)',
    target: '16 clients >= 60% of floor; p95 at 1 client <= 50 ms',
    requests: async (ctx) => {
      // The snapshot is built by the app on its first request; build it before measuring.
      await fetch(`${ctx.appBase}${base(ctx)}/opportunities`, { headers: ctx.headers });
      return ['', '?type=overdue_appointment', '?type=inactive_patient', '?type=high_value_risk', '?priority=high', '?priority=low'].map(
        (q) => `${base(ctx)}/opportunities${q}`,
      );
    },
  },
  {
    name: 'engagement overview (12 weeks by week)',
    target: '<= 1 s uncached, <= 5 ms cached',
    appOnly: true,
    requests: async (ctx) => [`${base(ctx)}/engagement/overview`],
    measure: engagementTimes,
  },
  {
    name: 'profiles offset=900000 (every sort)',
    target: '<= 300 ms',
    latencyOnly: true,
    latencyRequests: 40,
    requests: async (ctx) => {
      const offset = Math.max(0, Math.min(900_000, ctx.patientCount - 100));
      return SORTS.map((sort) => `${base(ctx)}/profiles?sort=${sort}&offset=${offset}`);
    },
  },
];
