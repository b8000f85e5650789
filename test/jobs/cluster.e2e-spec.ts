import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { signDevToken } from 'src/auth/dev-token';
import { loadSettings } from 'src/config/settings';
import { nightlyRunDue } from 'src/jobs/nightly-schedule';
import { seedOrganization } from 'src/demo-data/seed';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { Role } from 'src/organizations/organizations.enums';
import { createMember } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { describeUnless } from 'test/utils/skip-unless';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * Issue #21's "Done when": two API instances and a worker, real processes (`node dist/main.js`, `node
 * dist/cli/worker.js`) on one database and one Redis. The nightly scheduler's tick runs in all three (PROCESS_ROLE
 * all, all, worker); each organization due at its local nightly time is recomputed exactly once (one run, one
 * announcement, one follow-up of each kind); every API instance serves the recomputed scores; a process killed
 * (SIGKILL) in the middle of a recompute has its run finished by another.
 *
 * Redis: TEST_JOBS_REDIS_URL, else redis://127.0.0.1:6379/8 (this test flushes that database, and only it). Without
 * a Redis answering the test is skipped with the reason printed; under CI=true it fails instead.
 */
const REDIS_URL = process.env.TEST_JOBS_REDIS_URL ?? 'redis://127.0.0.1:6379/8';
const root = resolve(__dirname, '../..');
const JWT_SECRET = 'cluster-test-secret-cluster-test-secret-0123';
const PHI_ENCRYPTION_KEYS = `v1:${Buffer.alloc(32, 7).toString('base64')}`;
const PHI_BLIND_INDEX_KEY = Buffer.alloc(32, 9).toString('base64');

function redisAnswers(url: string): boolean {
  const probe = `const R=require('ioredis');const r=new R(${JSON.stringify(url)},{lazyConnect:true,connectTimeout:2000,maxRetriesPerRequest:0,retryStrategy:()=>null});
    r.connect().then(()=>r.ping()).then(()=>process.exit(0),()=>process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, timeout: 10_000 }).status === 0;
}
const available = redisAnswers(REDIS_URL);
if (!available && process.env.CI === 'true') throw new Error(`CI: no Redis answers at ${REDIS_URL}; the cluster test must run in CI`);

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

/** HH:MM, `minutesAgo` before now in UTC. */
function utcTimeOfDay(minutesAgo: number): string {
  const d = new Date(Date.now() - minutesAgo * 60_000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  output(): string;
}

describeUnless(
  available ? null : `no Redis answers at ${REDIS_URL} (set TEST_JOBS_REDIS_URL)`,
  'two API instances and a worker on one database and Redis',
  () => {
    let db: TestDatabase;
    let redis: Redis;
    let listener: Client;
    const dataDir = mkdtempSync(join(tmpdir(), 'pj-cluster-'));
    const procs: Proc[] = [];
    const api: { proc: Proc; port: number }[] = [];
    /** Every organization-wide recompute announced (scores_recomputed), by organization id. */
    const announced = new Map<string, number>();
    /** Organizations due tonight (their local 03:00 window has come), and one that is not. */
    const due: { id: string; slug: string; timezone: string; patients: number }[] = [];
    let notDue: { id: string; slug: string };
    let big: { id: string; slug: string };
    let token = '';
    let env: NodeJS.ProcessEnv;

    function launch(name: string, entry: string, extra: Record<string, string>, args: string[] = []): Proc {
      const child = spawn(process.execPath, [join(root, 'dist', entry), ...args], { cwd: root, env: { ...env, ...extra } });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const proc = { name, child, pid: child.pid as number, output: () => output };
      procs.push(proc);
      return proc;
    }

    async function startApi(name: string): Promise<void> {
      const port = await freePort();
      const proc = launch(name, 'main.js', { PORT: String(port), HOST: '127.0.0.1' });
      await eventually(
        async () => {
          if (proc.child.exitCode !== null) throw new Error(`${name} exited with ${proc.child.exitCode}: ${proc.output()}`);
          return fetch(`http://127.0.0.1:${port}/health/ready`).then(
            (r) => r.status,
            () => 0,
          );
        },
        (s) => s === 200,
        { timeoutMs: 90_000, intervalMs: 200, what: `${name} ready` },
      );
      api.push({ proc, port });
    }

    async function startWorker(name: string): Promise<Proc> {
      const proc = launch(name, 'cli/worker.js', {});
      await eventually(
        () => {
          if (proc.child.exitCode !== null) throw new Error(`${name} exited with ${proc.child.exitCode}: ${proc.output()}`);
          return proc.output();
        },
        (o) => o.includes('running jobs'),
        { timeoutMs: 90_000, intervalMs: 200, what: `${name} running jobs` },
      );
      return proc;
    }

    const runs = (organizationId: string, type = 'nightly-recompute') =>
      db.query<{ id: string; status: string; attempts: number; worker: string | null; dedup_key: string | null }>(
        `SELECT id, status, attempts, worker, dedup_key FROM job_runs WHERE organization_id = $1 AND type = $2 ORDER BY queued_at`,
        [organizationId, type],
      );

    /** The list's summary on an instance: how many patients have scores (active, dormant, at risk). */
    const scoredOn = async (port: number, organizationId: string): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/patients/${organizationId}/profiles?limit=5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { summary: { active_patients: number; dormant_patients: number; at_risk_patients: number } };
      if (process.env.CLUSTER_TEST_LOGS === '1') process.stdout.write(`${port} ${organizationId} ${JSON.stringify(body.summary)}\n`);
      return body.summary.active_patients + body.summary.dormant_patients + body.summary.at_risk_patients;
    };

    beforeAll(async () => {
      // dist/ up to date (the processes run the compiled app, as in production).
      const built = spawnSync(process.execPath, ['-e', "require('./scripts/cli.js').ensureBuilt()"], { cwd: root, encoding: 'utf8' });
      if (built.status !== 0) throw new Error(`the build failed: ${built.stderr}`);
      db = await createTestDatabase();
      redis = new Redis(REDIS_URL);
      await redis.flushdb(); // this test's Redis database only

      const settings = loadSettings({
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        JWT_SECRET,
        PHI_ENCRYPTION_KEYS,
        PHI_BLIND_INDEX_KEY,
        DATABASE_URL: db.url,
      });
      const cipher = createPhiCipher(settings);
      const now = new Date();
      // Due now at NIGHTLY_RECOMPUTE_AT = 30 minutes ago in UTC: UTC (30 min into its window), Berlin (+1 h: 90 min),
      // Dubai (+4 h: 270 min); New York (-5 h) is 4.5 hours before its window opens.
      for (const [i, timezone] of ['UTC', 'Europe/Berlin', 'Asia/Dubai', 'UTC'].entries()) {
        const patients = 40 + i * 10;
        const seeded = await seedOrganization(db.url, { slug: `due-${i}`, name: `Due ${i}`, patients, seed: 100 + i, now, cipher });
        await db.query(`UPDATE organizations SET timezone = $2 WHERE id = $1`, [seeded.organizationId, timezone]);
        due.push({ id: seeded.organizationId, slug: `due-${i}`, timezone, patients });
      }
      const later = await seedOrganization(db.url, { slug: 'not-due', name: 'Not Due', patients: 30, seed: 7, now, cipher });
      await db.query(`UPDATE organizations SET timezone = 'America/New_York' WHERE id = $1`, [later.organizationId]);
      notDue = { id: later.organizationId, slug: 'not-due' };
      // Big enough for its recompute to be caught running; not due tonight either (recomputed by hand below).
      const bigSeed = await seedOrganization(db.url, { slug: 'big', name: 'Big', patients: 6000, seed: 11, now, cipher });
      await db.query(`UPDATE organizations SET timezone = 'America/New_York' WHERE id = $1`, [bigSeed.organizationId]);
      big = { id: bigSeed.organizationId, slug: 'big' };
      // The seed scores its clinics as of their creation: start from no scores, so that a recompute is seen.
      await db.query(`DELETE FROM patient_metrics`);
      const owner = await createMember(db, due[0].id, Role.Owner);
      await db.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)`, [big.id, owner.userId, Role.Owner]);
      token = signDevToken(JWT_SECRET, { sub: owner.userId }, { expiresIn: '1h' });

      listener = new Client({ connectionString: db.url });
      await listener.connect();
      listener.on('notification', (n) => {
        const { organizationId } = JSON.parse(n.payload ?? '{}') as { organizationId?: string };
        if (organizationId) announced.set(organizationId, (announced.get(organizationId) ?? 0) + 1);
      });
      await listener.query('LISTEN scores_recomputed');

      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        LOG_LEVEL: process.env.CLUSTER_TEST_LOGS === '1' ? 'info' : 'warn',
        LOG_FORMAT: 'json',
        DEMO_SEED: 'false',
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        DATABASE_POOL_SIZE: '4',
        REDIS_URL,
        JWT_SECRET,
        PHI_ENCRYPTION_KEYS,
        PHI_BLIND_INDEX_KEY,
        JOB_LOCK_SECONDS: '5',
        JOB_SCHEDULER_INTERVAL_SECONDS: '2',
        JOB_CONCURRENCY: '2',
        NIGHTLY_RECOMPUTE_AT: utcTimeOfDay(30),
      };
    }, 600_000);

    afterAll(async () => {
      // CLUSTER_TEST_LOGS=1: the processes' own output, for a failure's post-mortem.
      if (process.env.CLUSTER_TEST_LOGS === '1')
        for (const p of procs) process.stdout.write(`--- ${p.name} (pid ${p.pid})\n${p.output()}\n`);
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await listener?.end().catch(() => undefined);
      await redis?.flushdb().catch(() => undefined);
      redis?.disconnect();
      await db?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('recomputes each organization due tonight exactly once, seen by both API instances', async () => {
      await startApi('api-1');
      await startApi('api-2');
      await startWorker('worker-1');

      for (const org of due) {
        await eventually(
          () => runs(org.id),
          (r) => r.length === 1 && r[0].status === 'succeeded',
          { timeoutMs: 120_000, intervalMs: 250, what: `${org.slug}'s nightly recompute succeeded` },
        );
      }
      // Several ticks later (three schedulers), still one run per organization, and one announcement each.
      await new Promise((r) => setTimeout(r, 5000));
      if (process.env.CLUSTER_TEST_LOGS === '1') {
        const all = await db.query(
          `SELECT o.slug, j.type, j.status, j.dedup_key, j.worker, j.attempts, j.error FROM job_runs j JOIN organizations o ON o.id = j.organization_id ORDER BY o.slug, j.queued_at`,
        );
        process.stdout.write(`${all.map((r) => JSON.stringify(r)).join('\n')}\n`);
      }
      // The night's key as the scheduler computed it (a window that began before local midnight keeps its day).
      const tonight = (tz: string): string | null => nightlyRunDue(new Date(), tz, env.NIGHTLY_RECOMPUTE_AT as string);
      for (const org of due) {
        const r = await runs(org.id);
        expect(r).toHaveLength(1);
        expect(r[0]).toMatchObject({ status: 'succeeded', attempts: 1, dedup_key: tonight(org.timezone) });
        expect(announced.get(org.id)).toBe(1);
        // Its follow-ups, enqueued by whichever process heard the announcement first: once each.
        expect((await runs(org.id, 'opportunities-refresh')).map((x) => x.status)).toEqual(['succeeded']);
        expect((await runs(org.id, 'engagement-rebuild')).map((x) => x.status)).toEqual(['succeeded']);
        const scored = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_metrics WHERE organization_id = $1`, [org.id]);
        expect(scored[0].n).toBe(org.patients);
      }
      expect(due).toHaveLength(4);
      expect(await runs(notDue.id)).toEqual([]);
      expect(await runs(big.id)).toEqual([]);
      expect(announced.has(notDue.id)).toBe(false);
      // The runs were shared out: more than one process ran them.
      const workers = await db.query<{ worker: string }>(`SELECT DISTINCT worker FROM job_runs WHERE worker IS NOT NULL`);
      const ours = new Set(procs.map((p) => String(p.pid)));
      expect(workers.length).toBeGreaterThan(0);
      for (const w of workers) expect(ours.has(w.worker.split(':').pop() as string)).toBe(true);
      for (const { port } of api) expect(await scoredOn(port, due[0].id)).toBe(due[0].patients);
    }, 300_000);

    it('finishes on another process the run of a process killed (SIGKILL) in the middle of it; every instance sees it', async () => {
      // Before: nothing scored, and both instances have cached that answer (counts, the page).
      for (const { port } of api) expect(await scoredOn(port, big.id)).toBe(0);
      const enqueue = launch('jobs-cli', 'cli/jobs.js', {}, ['enqueue', 'nightly-recompute', '--org', big.slug]);
      await new Promise<void>((ok) => enqueue.child.once('exit', () => ok()));
      expect(enqueue.child.exitCode).toBe(0);
      const running = await eventually(
        () => runs(big.id),
        (r) => r.length === 1 && r[0].status === 'running' && r[0].worker !== null,
        { timeoutMs: 60_000, intervalMs: 20, what: "big's recompute running" },
      );
      const victim = procs.find((p) => String(p.pid) === running[0].worker?.split(':').pop());
      expect(victim).toBeDefined();
      victim!.child.kill('SIGKILL');
      await new Promise<void>((ok) =>
        victim!.child.exitCode !== null || victim!.child.signalCode !== null ? ok() : victim!.child.once('exit', () => ok()),
      );
      expect(victim!.child.signalCode).toBe('SIGKILL');
      process.stdout.write(`killed ${victim!.name} (pid ${victim!.pid}) in the middle of the recompute\n`);

      const done = await eventually(
        () => runs(big.id),
        (r) => r.length === 1 && r[0].status === 'succeeded',
        { timeoutMs: 120_000, intervalMs: 250, what: "big's recompute finished by another process" },
      );
      // At least one more attempt: the taker may first meet the dead process's advisory lock, held until PostgreSQL
    // notices its connection is gone, and retry with backoff.
    expect(done[0].attempts).toBeGreaterThanOrEqual(2);
      const finisher = procs.find((p) => String(p.pid) === done[0].worker?.split(':').pop());
      expect(finisher).toBeDefined();
      expect(finisher!.pid).not.toBe(victim!.pid);
      expect(finisher!.child.exitCode).toBeNull();
      const scored = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_metrics WHERE organization_id = $1`, [big.id]);
      expect(scored[0].n).toBe(6000);
      expect(announced.get(big.id)).toBeGreaterThanOrEqual(1);
      // The instances still alive dropped their cached answers when the recompute was announced (over NOTIFY).
      const alive = api.filter((a) => a.proc !== victim);
      expect(alive.length).toBeGreaterThan(0);
      for (const { port } of alive) expect(await scoredOn(port, big.id)).toBe(6000);
      await eventually(
        async () => (await runs(big.id, 'opportunities-refresh')).map((x) => x.status),
        (s) => s.length >= 1 && s.every((x) => x === 'succeeded'),
        { timeoutMs: 60_000, intervalMs: 250, what: "big's follow-up" },
      );
    }, 300_000);
  },
);
