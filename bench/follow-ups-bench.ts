/**
 * A small clinic's nightly follow-ups (opportunities refresh, engagement rebuild: docs/scaling.md, "The nightly run of
 * small clinics"), the two ways the nightly job has run them, alternated clinic by clinic in one process so that both
 * see the same load: `runNow` twice (each a run recorded, claimed and ended: four job_runs statements, and a
 * transaction of its own) against `runTogether` (both in one transaction, recorded as succeeded in one statement).
 * `DATABASE_URL=postgres://postgres@127.0.0.1:5432/ TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register
 * bench/follow-ups-bench.ts --database <db> [--orgs 100] [--rounds 2] [--ways together [--finishing]]`; the database seeded beforehand (`npm run seed
 * -- --orgs 100 --patients 200`), with the PHI keys of its DATA_DIR (DATA_DIR or PHI_ENCRYPTION_KEYS set alike).
 * Prints per way: the median and the sum of the wall time per clinic, this process's CPU per clinic (user +
 * system), the server's (its backends' CPU, from /proc: the server must run on this machine), and the load average.
 * The app runs in this process without Redis (its in-process queue has nothing to take).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { createAppContext } from 'src/cli/support/app-context';
import { loadSettings } from 'src/config/settings';
import type { JobContext } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    orgs: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
    // `together`: runTogether alone (to compare two versions of the code, each run in its own tree, alternated).
    ways: { type: 'string', default: 'both' },
    // With `together`: each runTogether also ends a running run of the clinic's (its `finishing`, as the nightly job's
    // does), inserted before the clock starts.
    finishing: { type: 'boolean', default: false },
  },
});
const server = process.env.DATABASE_URL;
if (!server || !values.database) throw new Error('DATABASE_URL (the server) and --database are required');
const url = (() => {
  const u = new URL(server);
  u.pathname = `/${values.database}`;
  return u.toString();
})();
const FOLLOW_UPS = [JobType.OpportunitiesRefresh, JobType.EngagementRebuild];
const load = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`;

/** CPU (ms) of the server processes serving this database (its backends), from /proc. */
async function serverCpuMs(db: Client): Promise<number> {
  const pids = (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).rows;
  let ms = 0;
  for (const { pid } of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // ended meanwhile
    }
  }
  return ms;
}

async function main(): Promise<void> {
  // No Redis: the in-process queue (nothing is enqueued: the scheduler's nightly time twelve hours away, as orgs-bench).
  const settings = loadSettings({
    ...process.env,
    DATABASE_URL: url,
    PROCESS_ROLE: 'all',
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    NIGHTLY_RECOMPUTE_AT: `${String((new Date().getUTCHours() + 12) % 24).padStart(2, '0')}:00`,
  });
  const context = await createAppContext(settings, url);
  await context.init();
  const jobs = context.get(JobService);
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const orgs = (
      await db.query<{ id: string }>(
        `SELECT o.id FROM organizations o WHERE EXISTS (SELECT 1 FROM patients p WHERE p.organization_id = o.id) ORDER BY o.id LIMIT $1`,
        [Number(values.orgs)],
      )
    ).rows.map((r) => r.id);
    const ways: Record<string, (org: string, key: string, runId?: string) => Promise<unknown>> = {
      'runNow ×2 (before)': async (org, key) => {
        for (const type of FOLLOW_UPS) await jobs.runNow(type, org, {}, { dedupKey: key });
      },
      'runTogether (after)': (org, key, runId) =>
        jobs.runTogether(FOLLOW_UPS, org, {
          dedupKey: key,
          ...(runId ? { finishing: { context: { runId, organizationId: org } as JobContext, result: () => ({ bench: true }) } } : {}),
        }),
    };
    const names = Object.keys(ways).filter((n) => values.ways !== 'together' || n.startsWith('runTogether'));
    const stats = new Map(names.map((n) => [n, { wall: [] as number[], cpu: 0, serverCpu: 0 }]));
    // A first pass of each, unmeasured: the pool's connections opened, the statements' first plans.
    for (const [i, org] of orgs.slice(0, 4).entries()) await ways[names[i % names.length]](org, `bench-warm:${Date.now()}:${i}`);
    say(`${orgs.length} clinics × ${values.rounds} rounds, the two ways alternated clinic by clinic (${load()})`);
    let n = 0;
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const org of orgs) {
        // Which goes first alternates too.
        const order = n++ % 2 === 0 ? names : [...names].reverse();
        for (const name of order) {
          const s = stats.get(name)!;
          const runId = values.finishing
            ? (
                await db.query<{ id: string }>(
                  `INSERT INTO job_runs (organization_id, type, dedup_key, status, payload, queued_at, started_at, attempts, worker)
                   VALUES ($1, 'nightly-recompute', $2, 'running', '{}', now(), now(), 1, 'bench') RETURNING id`,
                  [org, `bench-finishing:${round}:${Date.now()}:${n}`],
                )
              ).rows[0].id
            : undefined;
          const cpu = process.cpuUsage();
          const serverBefore = await serverCpuMs(db);
          const t = process.hrtime.bigint();
          await ways[name](org, `bench-follow-ups:${name[0]}:${round}:${Date.now()}`, runId);
          s.wall.push(Number(process.hrtime.bigint() - t) / 1e6);
          const used = process.cpuUsage(cpu);
          s.cpu += (used.user + used.system) / 1000;
          s.serverCpu += (await serverCpuMs(db)) - serverBefore;
        }
      }
    }
    for (const [name, s] of stats) {
      const sorted = [...s.wall].sort((a, b) => a - b);
      const k = sorted.length;
      say(
        `${name}: ${k} runs, per clinic median ${sorted[Math.floor(k / 2)].toFixed(1)} ms (p25 ${sorted[Math.floor(k / 4)].toFixed(1)}, p75 ${sorted[Math.floor((3 * k) / 4)].toFixed(1)}), ` +
          `mean ${(sorted.reduce((a, b) => a + b, 0) / k).toFixed(1)} ms; this process's CPU ${(s.cpu / k).toFixed(1)} ms, the server's ${(s.serverCpu / k).toFixed(1)} ms per clinic`,
      );
    }
    const [dead] = (await db.query<{ live: number; dead: number }>(`SELECT n_live_tup::int AS live, n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = 'job_runs'`)).rows;
    say(`job_runs: ${dead.live} live rows, ${dead.dead} dead (autovacuum off) (${load()})`);
  } finally {
    await db.end();
    await context.close();
  }
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
