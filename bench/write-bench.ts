/**
 * The write side against its floors (issue #23, "The bulk jobs, each against a floor"): `npm run bench:write -- --org
 * <slug> [--days 1] [--patients 20] [--only recompute,opportunities,engagement,incremental] [--seed N]
 * [--seed-kind physiotherapy] [--now <ISO time>] [--vacuum]` (`--only seed --seed N`: the seed alone; `--now`: the refresh, the rollup and the
 * patches as of that instant instead of the clock; `--vacuum`: a VACUUM (ANALYZE) of the database, untimed, before each
 * job, as a deployment's autovacuum would have run between the nights: this server runs without it, and a table a job
 * rewrote whole carries its dead rows into the next job otherwise; `--opportunities-write auto|swap|update`: how the
 * refresh writes, OpportunitiesRefresher's mode: by default a large organization's by build and swap;
 * `--engagement-write auto|swap|update`: the same for the engagement rebuild, EngagementRollupService's), with
 * DATABASE_URL naming the database. In one sitting, each bulk job and the bare work
 * it cannot do without, one after the other, and a table of both times and their ratio:
 *
 * - next-day recompute: `recomputeOrganization` as `npm run recompute` runs it (refit, kept features, rebuild and
 *   swap from 50,000 patients, closing VACUUM (ANALYZE)), as of one day after the organization's last run
 *   (max(computed_at) + 1 day), `--days` times in a row (each a day after the one before), against the rebuild probe
 *   (bench/rebuild-probe.ts: the same metrics rows copied into a fresh table, its VACUUM and its ten indexes on two
 *   connections) run right after each day; with several days, the spread (max − min) / min of the job's times;
 * - opportunities refresh (`OpportunitiesRefresher.refresh`, as `npm run opportunities:refresh`) against its inputs
 *   read by bare SQL: the same facts query over the whole organization in one statement (no batches, no row-level
 *   security), streamed out by COPY and dropped, and the LTV percentile;
 * - engagement rebuild (`EngagementRollupService.rebuild`, as `npm run engagement:rebuild`) against its inputs read by
 *   bare SQL: the same patient-days and steps aggregation in one statement, counted, nothing written;
 * - incremental (`--patients N` random patients, default 20): one patient's recompute as the request path runs it
 *   (ScoringService.recomputePatients), then its aftermath as the app runs it: the opportunities patch
 *   (OpportunitiesRefresher.refreshPatients) and the engagement rollup patch (EngagementRollupService on the
 *   patients-recomputed event), each timed alone; p50 / p95 / max in ms per patient;
 * - `--seed N` (long): a seed of N patients into a scratch organization `<org>-bw-scratch` (replaced, then deleted),
 *   against a bare COPY of the same generated rows into fresh tables of the same columns without constraints or
 *   triggers, then the same secondary indexes built (generation and encryption untimed in the floor).
 *
 * Beside each step: wall time, CPU seconds of this process (Node: the jobs run in it) and of the database's PostgreSQL
 * backends (bench/write/pg-cpu.ts, when the server runs on this machine), and the load average before and after. The
 * machine is shared: compare CPU seconds before wall times when the load moves. Changes the organization as the jobs
 * do (its scores move a day forward per day run); the floors change nothing. The process runs with the jobs' V8 flags
 * (withJobFlags; `NODE_GC=parallel` for V8's default collector).
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FixedClock, SystemClock } from 'src/common/clock/clock';
import { Database } from 'src/database/database';
import { EngagementRollupRepository, patientDaysSql, stepsSql } from 'src/engagement/engagement-rollup.repository';
import { EngagementRollupService, type RollupWriteMode } from 'src/engagement/engagement-rollup.service';
import { OpportunitiesRefresher, type OpportunitiesWriteMode } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { FACTS_SQL } from 'src/opportunities/opportunities.sql';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { describeFit } from 'src/scoring/recompute/organization-context';
import { recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { ScoringService } from 'src/scoring/scoring.service';
import { PgCpuSampler } from './write/pg-cpu';
import { rebuildProbe } from './write/rebuild-probe-run';
import { seedAgainstFloor, type SeedStep } from './write/seed-floor';

const DAY_MS = 86_400_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

type Step = SeedStep;

interface Row {
  job: string;
  jobStep: Step;
  floorStep: Step;
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const load1 = (): number => loadavg()[0];

/** Runs `work`, timing it: wall clock, this process's CPU, the database backends' CPU, load average around it. */
async function measure<T>(label: string, database: string, work: () => Promise<T>, detail?: (r: T) => string): Promise<{ step: Step; result: T }> {
  const sampler = new PgCpuSampler(database);
  const loadBefore = load1();
  const cpu = process.cpuUsage();
  sampler.start();
  const started = process.hrtime.bigint();
  const result = await work();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const pgCpuS = sampler.stop();
  const used = process.cpuUsage(cpu);
  const step: Step = { label, ms, nodeCpuS: (used.user + used.system) / 1e6, pgCpuS, loadBefore, loadAfter: load1(), detail: detail?.(result) };
  say(
    `  ${label}: ${secs(ms)} (node CPU ${step.nodeCpuS.toFixed(1)} s, PostgreSQL CPU ${pgCpuS === null ? 'n/a' : `${pgCpuS.toFixed(1)} s`}, ` +
      `load ${loadBefore.toFixed(1)} → ${step.loadAfter.toFixed(1)})${step.detail ? ` ${step.detail}` : ''}`,
  );
  return { step, result };
}

/** `sql` with its numbered parameters replaced by literals (the floor runs it whole, through COPY). */
function inline(client: Client, sql: string, params: (string | null)[]): string {
  return sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const v = params[Number(n) - 1];
    return v === null ? 'NULL' : client.escapeLiteral(v);
  });
}

/** Streams `COPY (sql) TO STDOUT` and drops the bytes; resolves with the byte count. */
function copyOut(client: Client, sql: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    stream.on('error', reject);
    stream.on('end', () => resolve(bytes));
  });
}

function quantiles(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      org: { type: 'string' },
      days: { type: 'string', default: '1' },
      patients: { type: 'string', default: '20' },
      only: { type: 'string', default: 'recompute,opportunities,engagement,incremental' },
      seed: { type: 'string' },
      'seed-kind': { type: 'string', default: 'physiotherapy' },
      now: { type: 'string' },
      vacuum: { type: 'boolean', default: false },
      'opportunities-write': { type: 'string', default: 'auto' },
      'engagement-write': { type: 'string', default: 'auto' },
    },
    strict: true,
  });
  const url = process.env.DATABASE_URL;
  const days = Number(values.days);
  const samples = Number(values.patients);
  const only = new Set(values.only.split(',').filter(Boolean));
  const seedPatients = values.seed === undefined ? 0 : Number(values.seed);
  const opportunitiesWrite = values['opportunities-write'] as OpportunitiesWriteMode;
  if (!['auto', 'swap', 'update'].includes(opportunitiesWrite)) throw new Error('--opportunities-write: auto, swap or update');
  const engagementWrite = values['engagement-write'] as RollupWriteMode;
  if (!['auto', 'swap', 'update'].includes(engagementWrite)) throw new Error('--engagement-write: auto, swap or update');
  if (!values.org || !url || !(Number.isInteger(days) && days >= 1 && days <= 14) || !(Number.isInteger(samples) && samples >= 1) || !(Number.isInteger(seedPatients) && seedPatients >= 0)) {
    throw new Error('usage: DATABASE_URL=... npm run bench:write -- --org <slug> [--days 1..14] [--patients 20] [--only recompute,opportunities,engagement,incremental] [--seed N]');
  }
  for (const o of only) if (!['recompute', 'opportunities', 'engagement', 'incremental', 'seed'].includes(o)) throw new Error(`--only: unknown step ${o}`);
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  const owner = new Client({ connectionString: url, application_name: 'write-bench-floor', options: '-c timezone=UTC' });
  await owner.connect();
  const database = new Database({ url, poolSize: 2, applicationName: 'write-bench' });
  const rows: Row[] = [];
  try {
    const [org] = (await owner.query<{ id: string; timezone: string }>(`SELECT id, timezone FROM organizations WHERE slug = $1`, [values.org])).rows;
    if (!org) throw new Error(`no organization ${values.org}`);
    const [{ n: patients }] = (await owner.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`, [org.id])).rows;
    say(`write bench: "${values.org}" (${patients.toLocaleString('en-US')} patients) in ${dbName}, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${process.execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'parallel'} GC`);
    // --now: the refresh and the rebuild classify as of this instant (A/B runs compare their rows).
    const clock = values.now ? new FixedClock(new Date(values.now)) : new SystemClock();
    const repos = new ScoringRepositories();
    // --vacuum: before each job (its floor then runs after the job, on the tables as the job left them).
    const vacuum = async (): Promise<void> => {
      if (!values.vacuum) return;
      const t = Date.now();
      await owner.query('VACUUM (ANALYZE)');
      say(`  VACUUM (ANALYZE) of the database, untimed: ${secs(Date.now() - t)}`);
    };
    // Whether a follow-up has a stored result to compare with: without one, its run is a first build (every row
    // inserted, each with its foreign-key checks), not the nightly case of a rebuild after a recompute.
    const stored = async (table: string): Promise<boolean> =>
      (await owner.query(`SELECT EXISTS (SELECT 1 FROM ${table} WHERE organization_id = $1) AS e`, [org.id])).rows[0].e as boolean;

    // (a) The next-day recompute, `--days` days in a row, each against the rebuild probe.
    if (only.has('recompute')) {
      const [{ last }] = (await owner.query<{ last: Date | null }>(`SELECT max(computed_at) AS last FROM patient_metrics WHERE organization_id = $1`, [org.id])).rows;
      if (!last) throw new Error(`"${values.org}" was never scored: npm run recompute -- --org ${values.org} first`);
      const jobTimes: number[] = [];
      for (let d = 1; d <= days; d++) {
        const asOf = new Date(new Date(last).getTime() + d * DAY_MS);
        say(`next-day recompute, day ${d} of ${days}, as of ${asOf.toISOString()}`);
        await vacuum();
        const job = await measure(
          'recompute',
          dbName,
          () => recomputeOrganization(database, repos, org.id, asOf, { refit: true, vacuum: true, reuseFeatures: true, write: 'auto' }),
          (r) => {
            const p = r.phases;
            return (
              `[model fit ${secs(r.fitMs)}, reads ${secs(p.readMs)} (waited ${secs(p.waitMs)}), scoring ${secs(p.scoreMs)}, writes ${secs(p.writeMs)}` +
              `${p.rebuildMs === undefined ? '' : ` (rebuild and swap ${secs(p.rebuildMs)})`}, vacuum ${secs(p.vacuumMs)}, ` +
              `${r.featuresKept.toLocaleString('en-US')} of ${r.patients.toLocaleString('en-US')} features kept]` +
              (r.fit ? ` [fit: ${describeFit(r.fit)}]` : '')
            );
          },
        );
        jobTimes.push(job.step.ms);
        const floor = await measure(
          'rebuild probe',
          dbName,
          () => rebuildProbe(url, values.org as string, { schema: 'write_bench_probe' }),
          (r) => `[${r.rows.toLocaleString('en-US')} rows: insert ${secs(r.insertMs)}, vacuum ${secs(r.vacuumMs)}, ten indexes ${secs(r.indexesMs)}]`,
        );
        rows.push({ job: `next-day recompute (day ${d})`, jobStep: job.step, floorStep: floor.step });
      }
      if (days > 1) {
        const spread = (Math.max(...jobTimes) - Math.min(...jobTimes)) / Math.min(...jobTimes);
        say(`next-day recompute over ${days} days: ${jobTimes.map(secs).join(', ')}; spread (max − min) / min ${(100 * spread).toFixed(1)} % (goal < 15 %)`);
      }
    }

    // (b) The opportunities refresh against the facts query run whole.
    if (only.has('opportunities')) {
      const first = !(await stored('opportunity_refreshes'));
      say(`opportunities refresh${first ? ' (a first build: no snapshot stored before it)' : ''}`);
      await vacuum();
      const refresher = new OpportunitiesRefresher(database.tenants, new OpportunitiesRepository(), clock, undefined, undefined, database);
      const job = await measure('refresh', dbName, () => refresher.refresh(org.id, undefined, opportunitiesWrite), (r) => `[${r.opportunities.toLocaleString('en-US')} opportunities]`);
      const floor = await measure(
        'facts by bare SQL',
        dbName,
        async () => {
          await owner.query(`BEGIN; SET LOCAL jit = off`);
          try {
            await owner.query(
              `SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents)
                 FROM patient_metrics m JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
                WHERE m.organization_id = $1 AND p.deleted_at IS NULL`,
              [org.id],
            );
            return await copyOut(owner, inline(owner, FACTS_SQL, [org.id, clock.now().toISOString(), NIL_UUID, null, null, null]));
          } finally {
            await owner.query('COMMIT');
          }
        },
        (bytes) => `[${(bytes / 1e6).toFixed(1)} MB of facts]`,
      );
      rows.push({ job: `opportunities refresh${first ? ' (first build)' : ''}`, jobStep: job.step, floorStep: floor.step });
    }

    // (c) The engagement rebuild against its aggregation, counted.
    if (only.has('engagement')) {
      const first = !(await stored('engagement_rollups'));
      say(`engagement rebuild${first ? ' (a first build: no rollup stored before it)' : ''}`);
      await vacuum();
      const service = new EngagementRollupService(database.tenants, new EngagementRollupRepository(), new OrganizationsRepository(), clock, undefined, undefined, database);
      const job = await measure('rebuild', dbName, () => service.rebuild(org.id, engagementWrite), (r) => `[${r.patients.toLocaleString('en-US')} patients, ${r.steps.toLocaleString('en-US')} steps]`);
      const floor = await measure(
        'aggregation by bare SQL',
        dbName,
        async () => {
          await owner.query(`BEGIN; SET LOCAL jit = off; SET LOCAL work_mem = '128MB'`);
          try {
            const tz = org.timezone;
            const [{ cutoff_at }] = (
              await owner.query<{ cutoff_at: Date }>(`SELECT (($1::timestamptz AT TIME ZONE $2)::date::timestamp AT TIME ZONE $2) AS cutoff_at`, [clock.now(), tz])
            ).rows;
            const [r] = (
              await owner.query<{ steps: number; patients: number }>(
                `SELECT count(*)::int AS steps, coalesce(sum(patients), 0)::int AS patients FROM (${stepsSql(`(${patientDaysSql('')})`, '')}) t`,
                [org.id, tz, cutoff_at],
              )
            ).rows;
            return r;
          } finally {
            await owner.query('COMMIT');
          }
        },
        (r) => `[${r.steps.toLocaleString('en-US')} steps]`,
      );
      rows.push({ job: `engagement rebuild${first ? ' (first build)' : ''}`, jobStep: job.step, floorStep: floor.step });
    }

    // (d) The per-patient path: a recompute, then its aftermath (opportunities and rollup patches).
    if (only.has('incremental')) {
      say(`incremental: ${samples} random patients, one at a time`);
      const percent = Math.min(100, (100 * samples * 3) / Math.max(1, patients));
      const ids = (
        await owner.query<{ id: string }>(
          `SELECT id FROM patients TABLESAMPLE BERNOULLI ($2) REPEATABLE (7) WHERE organization_id = $1 AND deleted_at IS NULL LIMIT $3`,
          [org.id, percent, samples],
        )
      ).rows.map((r) => r.id);
      const scoring = new ScoringService(database, database.tenants, database.crossTenant, repos, clock, new ScoringEvents(), { jobs: { concurrency: 1 } });
      const refresher = new OpportunitiesRefresher(database.tenants, new OpportunitiesRepository(), clock, undefined, undefined, database);
      const rollupEvents = new ScoringEvents();
      const rollup = new EngagementRollupService(database.tenants, new EngagementRollupRepository(), new OrganizationsRepository(), clock, rollupEvents);
      rollup.onModuleInit();
      const [state] = (
        await owner.query<{ opp: boolean; roll: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM opportunity_refreshes WHERE organization_id = $1) AS opp, EXISTS (SELECT 1 FROM engagement_rollups WHERE organization_id = $1) AS roll`,
          [org.id],
        )
      ).rows;
      if (!state.opp || !state.roll) say(`  (no ${state.opp ? 'engagement rollup' : 'opportunities snapshot'} yet: that patch does nothing; run the full steps first)`);
      // Warm-up: the organization's scoring context (settings, models) is loaded once per process.
      await scoring.recomputePatients(org.id, ids.slice(0, 1));
      const recompute: number[] = [];
      const opportunities: number[] = [];
      const rollups: number[] = [];
      const total: number[] = [];
      const cpu = process.cpuUsage();
      const sampler = new PgCpuSampler(dbName);
      sampler.start();
      for (const id of ids) {
        let t = process.hrtime.bigint();
        const lap = (): number => {
          const now = process.hrtime.bigint();
          const ms = Number(now - t) / 1e6;
          t = now;
          return ms;
        };
        await scoring.recomputePatients(org.id, [id]);
        recompute.push(lap());
        await refresher.refreshPatients(org.id, [id]);
        opportunities.push(lap());
        rollupEvents.patientsRecomputed(org.id, [id]);
        await rollup.settled(org.id);
        rollups.push(lap());
        total.push(recompute[recompute.length - 1] + opportunities[opportunities.length - 1] + rollups[rollups.length - 1]);
      }
      const pg = sampler.stop();
      const used = process.cpuUsage(cpu);
      await rollup.onModuleDestroy();
      say(`  recompute of one patient:        ${quantiles(recompute)}`);
      say(`  opportunities patch:             ${quantiles(opportunities)}`);
      say(`  engagement rollup patch:         ${quantiles(rollups)}`);
      say(`  aftermath (both patches):        ${quantiles(opportunities.map((o, i) => o + rollups[i]))} (goal ≤ 50 ms at a million)`);
      say(`  recompute and aftermath:         ${quantiles(total)}`);
      say(
        `  per patient, all three: node CPU ${(((used.user + used.system) / 1e3) / ids.length).toFixed(1)} ms, ` +
          `PostgreSQL CPU ${pg === null ? 'n/a' : `${((pg * 1000) / ids.length).toFixed(1)} ms`} (load ${load1().toFixed(1)})`,
      );
    }

    // (e) The seed against a bare COPY of the same rows.
    if (seedPatients > 0) {
      say(`seed of ${seedPatients.toLocaleString('en-US')} patients into "${values.org}-bw-scratch"`);
      const r = await seedAgainstFloor(url, `${values.org}-bw-scratch`, seedPatients, values['seed-kind'], (label, work) => measure(label, dbName, work).then((m) => m.step));
      rows.push({ job: `seed (${seedPatients.toLocaleString('en-US')} patients)`, jobStep: r.seed, floorStep: r.floor });
    }

    if (rows.length > 0) {
      say('');
      say('| job | job time | floor time | ratio (goal ≤ 1.5) | job CPU node + PostgreSQL | floor CPU node + PostgreSQL | load before → after |');
      say('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
      const cpuOf = (s: Step): string => `${s.nodeCpuS.toFixed(1)} + ${s.pgCpuS === null ? 'n/a' : s.pgCpuS.toFixed(1)} s`;
      for (const r of rows) {
        say(
          `| ${r.job} | ${secs(r.jobStep.ms)} | ${secs(r.floorStep.ms)} | ${(r.jobStep.ms / r.floorStep.ms).toFixed(2)} | ${cpuOf(r.jobStep)} | ${cpuOf(r.floorStep)} | ` +
            `${r.jobStep.loadBefore.toFixed(1)} → ${r.jobStep.loadAfter.toFixed(1)} / ${r.floorStep.loadBefore.toFixed(1)} → ${r.floorStep.loadAfter.toFixed(1)} |`,
        );
      }
    }
  } finally {
    await database.close();
    await owner.end();
  }
}

/**
 * The jobs run in this process: it runs with the V8 flags `npm run recompute` and the worker get (scripts/cli.js's
 * gcFlags: the collector on the main thread on a machine of two cores), started again with them when they are missing.
 */
function withJobFlags(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { gcFlags } = require('../scripts/cli.js') as { gcFlags: (command: string) => string[] };
  const missing = gcFlags('cli/recompute').filter((f) => !process.execArgv.includes(f));
  if (missing.length === 0) return true;
  // Not process.execArgv: under ts-node's command it names ts-node's own entry point and options.
  const run = spawnSync(process.execPath, [...missing, '-r', 'ts-node/register', '-r', 'tsconfig-paths/register', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

if (withJobFlags())
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
