/**
 * Many clinics on one database (issue #21): `TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register
 * bench/orgs-bench.ts [--database bench_orgs] [--redis redis://127.0.0.1:6379/8] [--workers 1,2] [--concurrency 2] [--requests 1000]
 * [--empty-orgs N] [--nightly-only] [--enqueue-first]`. Needs DATABASE_URL (the server) and a Redis; the database is seeded beforehand with
 * `npm run seed -- --orgs 5000 --patients 200 --seed 42` (DATABASE_URL naming it). Runs the compiled app (dist/, built
 * when stale) as real processes and prints:
 *
 * 1. the catalog: organizations, patient_metrics partitions, their relations (tables and indexes), catalog size;
 * 2. a new migration's time on patient_metrics (an index added to every partition, then a column), both undone;
 * 3. the nightly recompute of every organization through the queue (BullMQ on --redis, which it flushes: use a
 *    database of your own), with each worker count of --workers: wall time, runs per second;
 * 4. the patient list's latency at 1 client on random organizations (p50, p95, p99) and the API process's RSS after
 *    serving --requests different organizations, with the database's blocks read from outside shared buffers during
 *    it (`--prewarm` reads the list's relations into shared buffers first: the app's first sight of each clinic on a
 *    database whose working set is in memory).
 *
 * `--steady` adds to step 4 a second pass over the same clinics (another order, another sort): the p95 of a process
 * that has served every clinic before, as in a day's steady state, beside the first pass's first sight of each.
 *
 * `--next-day`: each night as of one day after the database's last run (the app's clock moved ahead by
 * bench/app-clock.js), as a real night is; without it, a night on the day of the last one.
 *
 * `--vacuum`: a VACUUM (ANALYZE) of the database before each night (what autovacuum does between nights in a
 * deployment; this machine's server runs without it).
 *
 * `--nightly-only`: step 3 alone, with where a run's time went (the medians of the nightly runs' phases, from their
 * results) and the workers' CPU time. `--enqueue-first`: the runs are all queued before the workers start, so that
 * the first claim to the last end measures the runs alone, not the pace of the enqueuing command.
 * `--empty-orgs N` first adds N organizations without patients (each gets its partition), to measure the catalog, the
 * migration and the planning at N more partitions when seeding that many full clinics takes too long.
 * 5. one PostgreSQL backend's relation cache (`CacheMemoryContext` and its children, and the backend's whole memory)
 *    before and after planning one query on each of up to 1,000 random organizations (a pooled connection that
 *    serves them all).
 *
 * `--empty-orgs N` first adds N organizations without patients, to measure the catalog, the migration, the planning and
 * the backend's cache at N more organizations (N more partitions with one partition per organization) when seeding
 * that many full clinics takes too long. `--steps` picks the steps (default all: catalog,migration,nightly,list,cache;
 * `--skip-nightly` leaves out the nightly); `--list-orgs any` makes the list use every organization, not only those
 * with patients (the default unless `--empty-orgs` is given).
 * Prints the machine's load average at each step: the figures are only comparable at similar load.
 * The app's processes get PHI_ENCRYPTION_KEYS and PHI_BLIND_INDEX_KEY from this environment, else use the keys under
 * the tree's `.data/` (not DATA_DIR): for a database seeded with another DATA_DIR, pass its keys, e.g.
 * `PHI_ENCRYPTION_KEYS="v1:$(cat $DATA_DIR/phi-encryption-key)" PHI_BLIND_INDEX_KEY="$(cat $DATA_DIR/phi-blind-index-key)"`
 * (a worker that cannot open the database's keys exits at start; the nightly step then stops with its message).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { Client } from 'pg';
import { signDevToken } from 'src/auth/dev-token';
import { processCpuMs, processThreadsCpuMs } from './process-cpu';
import { PgCpuSampler } from './write/pg-cpu';

const { values } = parseArgs({
  options: {
    database: { type: 'string', default: 'bench_orgs' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/8' },
    workers: { type: 'string', default: '1,2' },
    requests: { type: 'string', default: '1000' },
    'empty-orgs': { type: 'string', default: '0' },
    'skip-nightly': { type: 'boolean', default: false },
    'nightly-only': { type: 'boolean', default: false },
    'enqueue-first': { type: 'boolean', default: false },
    // The app's tree whose dist/ the processes run (default this bench's tree): another worktree's build, for an A/B
    // with one bench script.
    'app-root': { type: 'string' },
    // Each worker's JOB_CONCURRENCY (jobs run at once per process).
    concurrency: { type: 'string', default: '2' },
    steps: { type: 'string', default: 'catalog,migration,nightly,list,cache' },
    'list-orgs': { type: 'string' },
    'list-repeat': { type: 'string', default: '1' },
    // Before the list step, read the list's relations into shared buffers (pg_prewarm): the app's first sight of each
    // clinic on a database whose working set is in memory, apart from the server's first read of those pages.
    prewarm: { type: 'boolean', default: false },
    // The list step's first N requests (to N other clinics, each its first too) left out of the figures: the new API
    // process's own warm-up (its pool's connections opened, their backends' first plans, the JIT), not a clinic's.
    warmup: { type: 'string', default: '0' },
    // After the first pass, a second over the same clinics in another order, each asked a page it was not asked
    // before (another sort): a process that has seen every clinic, as one serving them all day (its membership,
    // keys and counts cached as their limits allow), while the page itself is not in the page cache.
    steady: { type: 'boolean', default: false },
    // The nightly step as of one day after the database's last run (max(patient_metrics.computed_at) + 1 day): the
    // app's clock moved ahead by bench/app-clock.js. Without it a night run the same day as the last one keeps
    // most of what that one wrote (a same-day night, cheaper than a real one: docs/scaling.md).
    'next-day': { type: 'boolean', default: false },
    // Before each night, VACUUM (ANALYZE) the database, as a deployment's autovacuum would have between nights (this
    // machine's server runs without it, as CI does): the small clinics' rows are updated in place each night, and
    // without it every night leaves dead rows that slow the next (docs/scaling.md, "The thirteenth sitting").
    vacuum: { type: 'boolean', default: false },
    // The same with N days after the last run (`--days-after 0`: a same-day night on a database whose last run was
    // in the app's future, e.g. after --next-day nights).
    'days-after': { type: 'string' },
  },
});
// `--nightly-only` is `--steps nightly`.
const steps = new Set(values['nightly-only'] ? ['nightly'] : values.steps.split(','));
const server = process.env.DATABASE_URL;
if (!server) throw new Error('DATABASE_URL is required (the server; --database names the database)');
const url = (() => {
  const u = new URL(server);
  u.pathname = `/${values.database}`;
  return u.toString();
})();
const root = resolve(values['app-root'] ?? resolve(__dirname, '..'));
const JWT_SECRET = 'orgs-bench-secret-orgs-bench-secret-0123456789';
const load = (): string =>
  `load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} cores`;
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? ok(a.port) : fail(new Error('no port'))));
    });
  });
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    DATABASE_URL: url,
    REDIS_URL: values.redis,
    JWT_SECRET,
    PHI_ENCRYPTION_KEYS: process.env.PHI_ENCRYPTION_KEYS ?? '',
    PHI_BLIND_INDEX_KEY: process.env.PHI_BLIND_INDEX_KEY ?? '',
    // Twelve hours from now in UTC: the scheduler's own nightly enqueue (the seed's clinics are in UTC) stays out of
    // the measured run, which the bench enqueues itself.
    NIGHTLY_RECOMPUTE_AT: `${String((new Date().getUTCHours() + 12) % 24).padStart(2, '0')}:00`,
    // The request path's caches, when this environment sets them (e.g. PATIENT_PAGE_CACHE_ENTRIES=0 to compare a
    // clinic's first and second list request without the second coming from the page cache); FIXED_CLOCK and
    // BENCH_CLOCK_AHEAD_MS for bench/app-clock.js (the app's clock fixed, for bench/night-md5.sh, or moved ahead);
    // HEAP_SAMPLE and HEAP_SAMPLE_DELAY_MS for bench/heap-sample.js.
    ...Object.fromEntries(
      [
        'PATIENT_PAGE_CACHE_ENTRIES',
        'PHI_DECRYPT_CACHE_ENTRIES',
        'PHI_KEY_CACHE_ENTRIES',
        'PG_TRACE_DIR',
        'PG_TRACE_CPU',
        'FIXED_CLOCK',
        'BENCH_CLOCK_AHEAD_MS',
        'HEAP_SAMPLE',
        'HEAP_SAMPLE_DELAY_MS',
      ]
        .filter((k) => process.env[k] !== undefined)
        .map((k) => [k, process.env[k] as string]),
    ),
    ...extra,
  };
}

/** Node options for the app's processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), as bench:read takes them. */
const appNodeArgs = [
  ...(process.env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== ''),
  ...(values['next-day'] || values['days-after'] !== undefined || process.env.FIXED_CLOCK !== undefined ? ['-r', resolve(__dirname, 'app-clock.js')] : []),
];

/** The collector's flags `npm run worker` / `npm start` would give `entry` (scripts/cli.js `gcFlags`; NODE_GC decides). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { gcFlags } = require('../scripts/cli.js') as { gcFlags: (command: string) => string[] };

function launch(entry: string, extra: Record<string, string>, args: string[] = []): ChildProcess {
  const flags = [...appNodeArgs, ...gcFlags(entry.replace(/\.js$/, ''))];
  const child = spawn(process.execPath, [...flags, join(root, 'dist', entry), ...args], {
    cwd: root,
    env: env(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  // BENCH_APP_LOG=<prefix>: each app process's output also written to <prefix>.<pid> (e.g. with --trace-gc-nvp).
  const log = process.env.BENCH_APP_LOG ? createWriteStream(`${process.env.BENCH_APP_LOG}.${child.pid}`) : undefined;
  if (log) for (const stream of [child.stdout, child.stderr]) stream?.pipe(log, { end: false });
  // The end of what it printed, to name why it stopped (e.g. a worker refused to start: PHI keys of another DATA_DIR).
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-2000)));
  child.stdout?.on('data', (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-2000)));
  exited.set(child, () => tail);
  return child;
}

const exited = new WeakMap<ChildProcess, () => string>();

/** Throws when one of these processes has ended (a worker that stopped would leave the bench waiting for hours). */
function alive(children: readonly ChildProcess[]): void {
  const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
  if (dead) throw new Error(`${dead.spawnargs.slice(1).join(' ')} exited (${dead.exitCode ?? dead.signalCode}): ${exited.get(dead)?.() ?? ''}`);
}

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((ok) => {
    if (child.exitCode !== null || child.signalCode !== null) return ok();
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  });

async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const ms = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e6;
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function catalog(db: Client): Promise<void> {
  const [row] = (
    await db.query<{
      orgs: number;
      patients: number;
      partitions: number;
      partition_relations: number;
      relations: number;
      catalog_mb: number;
    }>(`
    SELECT (SELECT count(*) FROM organizations)::int AS orgs,
           (SELECT count(*) FROM patients)::int AS patients,
           (SELECT count(*) FROM pg_inherits WHERE inhparent = 'patient_metrics'::regclass)::int AS partitions,
           (SELECT count(*) FROM pg_class c WHERE c.relname LIKE 'patient_metrics\\_%' OR c.oid IN (
              SELECT i.indexrelid FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid WHERE h.inhparent = 'patient_metrics'::regclass))::int AS partition_relations,
           (SELECT count(*) FROM pg_class)::int AS relations,
           round((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r') / 1048576.0, 1)::float8 AS catalog_mb`)
  ).rows;
  say(
    `catalog: ${row.orgs} organizations, ${row.patients} patients; patient_metrics: ${row.partitions} partitions, ${row.partition_relations} relations of them; ${row.relations} relations in all; pg_catalog ${row.catalog_mb} MB (${load()})`,
  );
}

async function migration(db: Client): Promise<void> {
  const steps: [string, string, string][] = [
    [
      'CREATE INDEX on patient_metrics (every partition)',
      'CREATE INDEX bench_pm_updated ON patient_metrics (organization_id, updated_at)',
      'DROP INDEX bench_pm_updated',
    ],
    [
      'ADD COLUMN with a default (every partition)',
      'ALTER TABLE patient_metrics ADD COLUMN bench_flag boolean NOT NULL DEFAULT false',
      'ALTER TABLE patient_metrics DROP COLUMN bench_flag',
    ],
  ];
  for (const [label, up, down] of steps) {
    const started = process.hrtime.bigint();
    await db.query('BEGIN');
    await db.query(up);
    await db.query('COMMIT');
    const upMs = ms(started);
    const s2 = process.hrtime.bigint();
    await db.query(down);
    say(`migration: ${label} ${(upMs / 1000).toFixed(2)} s, undone in ${(ms(s2) / 1000).toFixed(2)} s (${load()})`);
  }
}

async function nightly(db: Client, workers: number): Promise<void> {
  if (values['next-day'] || values['days-after'] !== undefined) {
    const days = values['days-after'] !== undefined ? Number(values['days-after']) : 1;
    const [last] = (await db.query<{ ms: number | null }>(`SELECT extract(epoch FROM max(computed_at)) * 1000 AS ms FROM patient_metrics`)).rows;
    const ahead = Math.max(0, Math.round(Number(last.ms ?? Date.now()) + days * 86_400_000 - Date.now()));
    process.env.BENCH_CLOCK_AHEAD_MS = String(ahead);
    say(`a night ${days} day(s) after the last run: the app's clock ${(ahead / 3_600_000).toFixed(1)} h ahead (the last run's computed_at + ${days} day(s))`);
  }
  if (values.vacuum) {
    const vacuumStarted = process.hrtime.bigint();
    await db.query('VACUUM (ANALYZE)');
    say(`VACUUM (ANALYZE) of the database before the night: ${(ms(vacuumStarted) / 1000).toFixed(1)} s (${load()})`);
  }
  const redis = new Redis(values.redis);
  await redis.flushdb();
  redis.disconnect();
  await db.query(`DELETE FROM job_runs`);
  const orgs = (
    await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM organizations o WHERE EXISTS (SELECT 1 FROM patients p WHERE p.organization_id = o.id)`,
    )
  ).rows[0].n;
  const collector = gcFlags('cli/worker').includes('--single-threaded-gc') ? 'single-threaded' : "V8's default";
  say(`workers: ${workers} (concurrency ${values.concurrency} each), garbage collector ${collector} (NODE_GC)`);
  const launchWorkers = (): ChildProcess[] =>
    Array.from({ length: workers }, () => launch('cli/worker.js', {
        JOB_CONCURRENCY: values.concurrency,
        DATABASE_POOL_SIZE: String(Math.max(6, 3 * Number(values.concurrency))),
        PROCESS_ROLE: 'worker',
      }));
  // --enqueue-first: every run queued before the workers start (the runs' own cost, not the enqueuing command's pace).
  const procs: ChildProcess[] = values['enqueue-first'] ? [] : launchWorkers();
  try {
    const started = process.hrtime.bigint();
    const enqueue = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'jobs.js'), 'enqueue', 'nightly-recompute'], {
      cwd: root,
      env: env({}),
      encoding: 'utf8',
      maxBuffer: 64 * 1048576,
    });
    if (enqueue.status !== 0) throw new Error(`enqueue failed: ${enqueue.stderr}`);
    const enqueuedMs = ms(started);
    // The database's backends' CPU (every backend of this database: the workers' and this script's polling) and the
    // Redis server's (the queue's side; shared with whatever else uses that server), from the workers' start.
    const backends = new PgCpuSampler(values.database);
    backends.start(100);
    const redisCpu0 = redisServerCpuMs();
    if (values['enqueue-first']) procs.push(...launchWorkers());
    const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_runs WHERE type = 'nightly-recompute'`)).rows[0].n;
    await waitFor(
      async () => {
        alive(procs);
        return (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM job_runs WHERE type = 'nightly-recompute' AND status IN ('queued', 'running')`,
          )
        ).rows[0].n;
      },
      (n) => n === 0,
      4 * 3_600_000,
      'the nightly runs',
    );
    const wall = ms(started);
    const [r] = (
      await db.query<{ ok: number; failed: number; job_ms: number }>(
        `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*) FILTER (WHERE status <> 'succeeded')::int AS failed,
                coalesce(sum((result->>'total_ms')::float8), 0)::float8 AS job_ms FROM job_runs WHERE type = 'nightly-recompute'`,
      )
    ).rows;
    // The follow-ups (opportunities, engagement rollup) end after their recompute: wait for them too. A large
    // organization's are enqueued by whoever hears its recompute's announcement, a moment after that run ended, so
    // each run whose result has no `follow_ups` (not run inline) waits for one job of each kind to be recorded.
    await waitFor(
      async () =>
        (
          await db.query<{ n: number }>(
            `SELECT (SELECT count(*) FROM job_runs WHERE status IN ('queued', 'running'))::int
                  + greatest(0, (SELECT count(*) FROM job_runs WHERE type = 'nightly-recompute' AND status = 'succeeded' AND NOT (result ? 'follow_ups'))
                                - (SELECT count(*) FROM job_runs WHERE type = 'opportunities-refresh'))::int
                  + greatest(0, (SELECT count(*) FROM job_runs WHERE type = 'nightly-recompute' AND status = 'succeeded' AND NOT (result ? 'follow_ups'))
                                - (SELECT count(*) FROM job_runs WHERE type = 'engagement-rebuild'))::int AS n`,
          )
        ).rows[0].n,
      (n) => n === 0,
      600_000,
      'the follow-up runs',
    );
    const withFollowUps = ms(started);
    const cpu = procs.map(cpuSeconds).reduce((a, b) => a + b, 0);
    const backendsCpu = backends.stop();
    const redisCpu = redisServerCpuMs() - redisCpu0;
    say(
      `nightly through the queue, ${workers} worker(s) × concurrency ${values.concurrency}: ${total} runs (${orgs} organizations with patients), enqueued in ${(enqueuedMs / 1000).toFixed(1)} s, ` +
        `all done in ${(wall / 1000).toFixed(1)} s, follow-ups included ${(withFollowUps / 1000).toFixed(1)} s (${r.ok} succeeded, ${r.failed} not; ${(r.ok / (wall / 1000)).toFixed(1)} runs/s; ` +
        `recompute time summed ${(r.job_ms / 1000).toFixed(1)} s; workers' CPU ${cpu.toFixed(1)} s, ${((cpu * 1000) / Math.max(1, r.ok)).toFixed(0)} ms per run) (${load()})`,
    );
    say(
      `  CPU per run: the workers ${((cpu * 1000) / Math.max(1, r.ok)).toFixed(1)} ms, the database's backends ${
        backendsCpu === null ? 'n/a' : ((backendsCpu * 1000) / Math.max(1, r.ok)).toFixed(1)
      } ms, the Redis server ${Number.isNaN(redisCpu) ? 'n/a' : (redisCpu / Math.max(1, r.ok)).toFixed(2)} ms (${load()})`,
    );
    await profile(db);
  } finally {
    await Promise.all(procs.map(stop));
  }
}

/** The CPU time (ms) of this machine's redis-server processes, from /proc (NaN when none is visible). */
function redisServerCpuMs(): number {
  let total = Number.NaN;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'latin1').startsWith('redis-server')) continue;
    } catch {
      continue;
    }
    const ms = processCpuMs(Number(pid));
    if (!Number.isNaN(ms)) total = (Number.isNaN(total) ? 0 : total) + ms;
  }
  return total;
}

/** A process's CPU time (user + system, seconds) from /proc. */
function cpuSeconds(child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Where a run's time went: medians over the nightly runs of their phases (job results), and of each job type's run. */
async function profile(db: Client): Promise<void> {
  const runs = (
    await db.query<{ type: string; run_ms: number; wait_ms: number; result: Record<string, unknown> | null }>(
      `SELECT type, (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS run_ms, (extract(epoch FROM started_at - queued_at) * 1000)::float8 AS wait_ms, result
         FROM job_runs WHERE status = 'succeeded'`,
    )
  ).rows;
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
  };
  const [span] = (
    await db.query<{ span_ms: number; n: number; enqueue_ms: number }>(
      `SELECT (extract(epoch FROM max(finished_at) - min(started_at)) * 1000)::float8 AS span_ms,
              (extract(epoch FROM max(queued_at) FILTER (WHERE type = 'nightly-recompute') - min(queued_at) FILTER (WHERE type = 'nightly-recompute')) * 1000)::float8 AS enqueue_ms,
              count(*) FILTER (WHERE type = 'nightly-recompute')::int AS n FROM job_runs WHERE status = 'succeeded'`,
    )
  ).rows;
  say(`  the enqueuing command's first to last nightly run queued: ${(span.enqueue_ms / 1000).toFixed(1)} s, ${(span.enqueue_ms / Math.max(1, span.n - 1)).toFixed(1)} ms per run`);
  // From the first run's claim to the last run's end (follow-ups included): the night without the enqueuing command.
  say(`  from the first claim to the last end: ${(span.span_ms / 1000).toFixed(1)} s, ${(span.span_ms / Math.max(1, span.n)).toFixed(0)} ms per organization`);
  for (const type of [...new Set(runs.map((r) => r.type))].sort()) {
    const of = runs.filter((r) => r.type === type);
    say(`  ${type}: ${of.length} runs, median ${median(of.map((r) => r.run_ms)).toFixed(0)} ms from claim to end`);
  }
  const nightly = runs.filter((r) => r.type === 'nightly-recompute' && r.result);
  const phases = new Map<string, number[]>();
  for (const r of nightly) {
    const p = { total: r.result?.total_ms, fit: r.result?.fit_ms, ...((r.result?.phases_ms as Record<string, number> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(p)) if (typeof v === 'number') phases.set(k, [...(phases.get(k) ?? []), v]);
  }
  const refitted = nightly.filter((r) => r.result?.refitted === true).length;
  say(
    `  nightly-recompute phases, medians (ms): ${[...phases].map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ')}; models refitted in ${refitted} of ${nightly.length} runs`,
  );
}

async function list(db: Client, requests: number): Promise<void> {
  const warmup = Math.max(0, Number(values.warmup));
  const [user] = (
    await db.query<{ id: string }>(
      `INSERT INTO users (email, name) VALUES ('bench-' || md5(random()::text) || '@bench.test', 'Bench') RETURNING id`,
    )
  ).rows;
  await db.query(`INSERT INTO memberships (organization_id, user_id, role) SELECT id, $1, 'owner' FROM organizations`, [user.id]);
  // With --empty-orgs or --list-orgs any, any organization (most have no patients, but each has its own plans, and
  // with one partition per organization its own partition); otherwise those with patients.
  const any = (values['list-orgs'] ?? (Number(values['empty-orgs']) > 0 ? 'any' : 'with-patients')) === 'any';
  const withPatients = any ? '' : 'WHERE EXISTS (SELECT 1 FROM patients p WHERE p.organization_id = o.id)';
  const orgs = (
    await db.query<{ id: string }>(`SELECT o.id FROM organizations o ${withPatients} ORDER BY random() LIMIT $1`, [requests + warmup])
  ).rows.map((r) => r.id);
  const token = signDevToken(JWT_SECRET, { sub: user.id }, { expiresIn: '2h' });
  if (values.prewarm) await prewarm(db);
  const blocks = async (): Promise<{ read: number; hit: number }> => {
    const [r] = (
      await db.query<{ read: string; hit: string }>(`SELECT blks_read AS read, blks_hit AS hit FROM pg_stat_database WHERE datname = current_database()`)
    ).rows;
    return { read: Number(r.read), hit: Number(r.hit) };
  };
  const port = await freePort();
  const api = launch('main.js', {
    PORT: String(port),
    HOST: '127.0.0.1',
    PROCESS_ROLE: 'api',
    RATE_LIMIT_LIMIT: '1000000',
    RATE_LIMIT_IP_LIMIT: '1000000',
  });
  try {
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/health/ready`).then(
          (r) => r.status,
          () => 0,
        ),
      (s) => s === 200,
      120_000,
      'the API ready',
    );
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const rssBefore = rss();
    const apiCpuMs = (): number => processCpuMs(api.pid);
    // `--list-repeat N`: each clinic asked N times in a row; the first request of each is its first in this process
    // (cold: its counts, keys, membership not cached), the others warm (with the page cache on, from it).
    const repeat = Math.max(1, Number(values['list-repeat']));
    const times: number[] = [];
    const again: number[] = [];
    // The API's CPU around each request (its threads' scheduler time, to the nanosecond), first requests apart from
    // the later ones: what a clinic's first request costs the app beyond a warm one.
    const threadsCpu = (): number => processThreadsCpuMs(api.pid);
    const cpuOf = { first: 0, again: 0 };
    const warmupOrgs = orgs.splice(0, Math.min(warmup, Math.max(0, orgs.length - 1)));
    for (const org of warmupOrgs) {
      const status = await getStatus(`http://127.0.0.1:${port}/api/v1/patients/${org}/profiles?limit=20&sort=risk_score&order=desc`, token);
      if (status !== 200) throw new Error(`list of ${org}: ${status}`);
    }
    const cpuMeasured = apiCpuMs();
    const blocksBefore = await blocks();
    for (let i = 0; i < requests; i++) {
      const org = orgs[i % orgs.length];
      for (let r = 0; r < repeat; r++) {
        const cpuStart = threadsCpu();
        const started = process.hrtime.bigint();
        const status = await getStatus(`http://127.0.0.1:${port}/api/v1/patients/${org}/profiles?limit=20&sort=risk_score&order=desc`, token);
        (r === 0 ? times : again).push(ms(started));
        cpuOf[r === 0 ? 'first' : 'again'] += threadsCpu() - cpuStart;
        if (status !== 200) throw new Error(`list of ${org}: ${status}`);
      }
    }
    times.sort((a, b) => a - b);
    again.sort((a, b) => a - b);
    const cpu = apiCpuMs();
    say(
      `list at 1 client, ${requests} requests over ${new Set(orgs.slice(0, requests)).size} different organizations: p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, ` +
        `p99 ${pct(times, 99).toFixed(1)} ms; API RSS ${rssBefore.toFixed(0)} MB at start, ${rss().toFixed(0)} MB after; API CPU ${((cpu - cpuMeasured) / (requests * repeat)).toFixed(2)} ms per request${warmupOrgs.length > 0 ? ` (after ${warmupOrgs.length} warm-up requests to other clinics, not counted)` : ''} (${load()})`,
    );
    say(`  API CPU during each first request (its threads' scheduler time): ${(cpuOf.first / requests).toFixed(2)} ms per request`);
    // The statistics collector reports a backend's counts when its transaction ends (at most every second): wait for them.
    await new Promise((r) => setTimeout(r, 1_100));
    const blocksAfter = await blocks();
    say(
      `  the database's blocks during the step: ${blocksAfter.read - blocksBefore.read} read from outside shared buffers, ` +
        `${blocksAfter.hit - blocksBefore.hit} hits${values.prewarm ? ' (after --prewarm)' : ''}`,
    );
    if (again.length > 0) {
      say(
        `  the same clinics asked again (${again.length} requests): p50 ${pct(again, 50).toFixed(1)} ms, p95 ${pct(again, 95).toFixed(1)} ms, p99 ${pct(again, 99).toFixed(1)} ms; ` +
          `API CPU during each ${(cpuOf.again / again.length).toFixed(2)} ms per request`,
      );
    }
    if (values.steady) {
      const steadyOrgs = orgs.slice(0, requests).sort(() => Math.random() - 0.5);
      const steady: number[] = [];
      let steadyCpu = 0;
      const cpuSteadyStart = apiCpuMs();
      for (const org of steadyOrgs) {
        const cpuStart = threadsCpu();
        const started = process.hrtime.bigint();
        const status = await getStatus(`http://127.0.0.1:${port}/api/v1/patients/${org}/profiles?limit=20&sort=name&order=asc`, token);
        steady.push(ms(started));
        steadyCpu += threadsCpu() - cpuStart;
        if (status !== 200) throw new Error(`list of ${org}: ${status}`);
      }
      steady.sort((a, b) => a - b);
      say(
        `  steady state: the same ${steadyOrgs.length} clinics again in another order, another sort (a page not asked before): ` +
          `p50 ${pct(steady, 50).toFixed(1)} ms, p95 ${pct(steady, 95).toFixed(1)} ms, p99 ${pct(steady, 99).toFixed(1)} ms; ` +
          `API CPU ${((apiCpuMs() - cpuSteadyStart) / steadyOrgs.length).toFixed(2)} ms per request (during each ${(steadyCpu / steadyOrgs.length).toFixed(2)}); ` +
          `API RSS ${rss().toFixed(0)} MB (${load()})`,
      );
    }
  } finally {
    listAgent.destroy();
    await stop(api);
    await db.query(`DELETE FROM users WHERE id = $1`, [user.id]);
  }
}

/** One keep-alive connection, as bench/read/harness.ts's latency client: node:http, lighter than fetch (undici). */
const listAgent = new Agent({ keepAlive: true, maxSockets: 1 });

/** GET `url` with the bearer token, the body read to its end: the status. */
function getStatus(url: string, token: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { agent: listAgent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.end();
  });
}

/**
 * `--prewarm`: every table and index the list's first request reads (the patients, their keys and metrics, the
 * organizations' keys, memberships, counts and audit chain heads), read into shared buffers by pg_prewarm (a contrib
 * extension shipped with PostgreSQL; created here if missing, which needs a superuser).
 */
async function prewarm(db: Client): Promise<void> {
  const started = process.hrtime.bigint();
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const { rows } = await db.query<{ blocks: string }>(
    `SELECT coalesce(sum(pg_prewarm(c.oid)), 0) AS blocks
       FROM pg_class c
      WHERE c.relkind IN ('r', 'i')
        AND (c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'patient_metrics'::regclass)
             OR c.oid IN ('patients'::regclass, 'patient_keys'::regclass, 'organization_keys'::regclass, 'memberships'::regclass,
                          'patient_metric_counts'::regclass, 'audit_chain_heads'::regclass)
             OR c.oid IN (SELECT i.indexrelid FROM pg_index i
                           WHERE i.indrelid IN ('patients'::regclass, 'patient_keys'::regclass, 'organization_keys'::regclass, 'memberships'::regclass,
                                                'patient_metric_counts'::regclass, 'audit_chain_heads'::regclass)
                              OR i.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'patient_metrics'::regclass)))`,
  );
  say(`prewarm: ${rows[0].blocks} blocks of the list's relations read into shared buffers in ${ms(started).toFixed(0)} ms (${load()})`);
}

/** Memory of this backend: CacheMemoryContext with its children, and every context, in MB. */
async function backendMemory(db: Client): Promise<{ cache: number; total: number }> {
  const [row] = (
    await db.query<{ cache: number; total: number }>(
      `SELECT round(sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext') / 1048576.0, 1)::float8 AS cache,
              round(sum(total_bytes) / 1048576.0, 1)::float8 AS total FROM pg_backend_memory_contexts`,
    )
  ).rows;
  return row;
}

/**
 * One new backend plans (and runs) a query naming one organization, as the app's reads do, for each of up to 1,000
 * random organizations; its relation cache grows with the relations it opened.
 */
async function backendCache(): Promise<void> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const before = await backendMemory(db);
    const started = process.hrtime.bigint();
    const [{ n }] = (
      await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT 1 FROM organizations LIMIT 1000) x`)
    ).rows;
    await db.query(`DO $$ DECLARE org uuid; BEGIN
      FOR org IN SELECT id FROM organizations ORDER BY random() LIMIT 1000 LOOP
        EXECUTE format('SELECT count(*) FROM patient_metrics WHERE organization_id = %L AND risk_score > 50', org);
      END LOOP; END $$`);
    const took = ms(started);
    const after = await backendMemory(db);
    say(
      `one backend after a query on each of ${n} organizations (${(took / 1000).toFixed(1)} s): CacheMemoryContext ${before.cache} → ${after.cache} MB, ` +
        `the backend's contexts ${before.total} → ${after.total} MB (${load()})`,
    );
  } finally {
    await db.end();
  }
}

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, ['-e', "require('./scripts/cli.js').ensureBuilt()"], { cwd: root, stdio: ['ignore', 2, 2] });
  if (built.status !== 0) throw new Error('the build failed');
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const empty = Number(values['empty-orgs']);
    if (empty > 0) {
      const started = process.hrtime.bigint();
      // In batches: with one partition per organization, each organization's holds a dozen locks until its
      // transaction ends.
      for (let done = 0; done < empty; done += 50) {
        await db.query(
          `INSERT INTO organizations (slug, name) SELECT 'empty-' || md5(random()::text), 'Empty ' || g FROM generate_series(1, $1::int) g`,
          [Math.min(50, empty - done)],
        );
      }
      say(`added ${empty} organizations without patients in ${(ms(started) / 1000).toFixed(1)} s (${load()})`);
    }
    if (steps.has('catalog')) await catalog(db);
    if (steps.has('migration')) await migration(db);
    if (steps.has('nightly') && !values['skip-nightly']) for (const w of values.workers.split(',').map(Number)) await nightly(db, w);
    if (steps.has('list')) await list(db, Number(values.requests));
    if (steps.has('cache')) await backendCache();
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
