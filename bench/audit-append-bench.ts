/**
 * What one `audit_append_batch()` call costs PostgreSQL, at one client:
 *
 *   TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/audit-append-bench.ts [--seconds 4] [--async] [--plans]
 *
 * Sends batches as the app's TrailWriter does (TrailRepository.appendBatch, its SQL text with the parameters as
 * literals, real content hashes) to the chain of a scratch organization `audit-append-bench` of DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test; created when missing, as the superuser the benchmarks run as; its events
 * stay, as every audit event does). Cases: events a call × patients an event (1×1, 5×1, 1×100, 3×100: a profile's,
 * a batch of them, a list page's, a batch of those). For each it prints the calls, the mean time a call and the CPU
 * its backend spent a call (from /proc/<pid>/stat when the server runs on this machine, else NaN).
 * `--async`: `synchronous_commit = off` for the session (the call without the commit's flush).
 * `--plans`: each case also with the function's `plan_cache_mode` reset (PostgreSQL's `auto` choice, as before
 * migration AuditAppendBatchGenericPlan1795568700000) and set again, alternated twice; it is left set.
 * docs/performance.md, "The twenty-third sitting".
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuditEventContent } from 'src/audit/trail/audit-event';
import { contentHash } from 'src/audit/trail/hash-chain';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { inlineParams } from 'src/database/tenant/sql-literal';
import { processCpuMs } from './process-cpu';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    async: { type: 'boolean', default: false },
    plans: { type: 'boolean', default: false },
  },
});

const CASES = [
  { events: 1, patients: 1 },
  { events: 5, patients: 1 },
  { events: 1, patients: 100 },
  { events: 3, patients: 100 },
];

function event(organizationId: string, patientIds: string[]): AuditEventContent {
  return {
    organizationId,
    id: randomUUID(),
    occurredAt: new Date(),
    actorType: 'user',
    actorId: '6f1f0c7a-9f7b-4a39-8a4e-1f2e3d4c5b6a',
    actorRole: 'admin',
    action: patientIds.length > 1 ? AuditAction.List : AuditAction.Read,
    resource: 'patient',
    method: 'GET',
    route: patientIds.length > 1 ? '/api/v1/patients/:organizationId/profiles' : '/api/v1/patients/:organizationId/profile/:patientId',
    patientIds,
    query: patientIds.length > 1 ? { limit: '100', sort: 'name' } : {},
    outcome: 'success',
    statusCode: 200,
    requestId: randomUUID(),
    ip: '127.0.0.1',
    userAgent: 'audit-append-bench',
  };
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production')
    throw new Error('audit-append-bench appends events to a scratch organization: not in a production process');
  const client = new Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  try {
    const [org] = (
      await client.query<{ id: string }>(
        `INSERT INTO organizations (slug, name) VALUES ('audit-append-bench', 'audit-append-bench (scratch chain)')
         ON CONFLICT (slug) DO UPDATE SET updated_at = organizations.updated_at RETURNING id`,
      )
    ).rows;
    if (values.async) await client.query(`SET synchronous_commit = off`);
    const [{ pid }] = (await client.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`)).rows;
    const repository = new TrailRepository();
    const db = {
      organizationId: org.id,
      query: async <T>(text: string, params?: readonly unknown[]): Promise<T[]> =>
        (await client.query(inlineParams(text, params))).rows as T[],
    };
    // The same patients every call (a clinic's first page is read again and again).
    const patients = Array.from({ length: 100 }, () => randomUUID());
    const seconds = Number(values.seconds);
    const run = async (c: (typeof CASES)[number]): Promise<{ calls: number; ms: number; cpu: number }> => {
      const call = () => {
        const events = Array.from({ length: c.events }, () => event(org.id, patients.slice(0, c.patients)));
        return repository.appendBatch(
          db,
          events.map((e) => ({ content: e, contentHash: contentHash(e) })),
        );
      };
      for (let i = 0; i < 20; i++) await call();
      const cpu0 = processCpuMs(pid);
      const t0 = performance.now();
      let calls = 0;
      while (performance.now() - t0 < seconds * 1000) {
        await call();
        calls++;
      }
      const ms = performance.now() - t0;
      return { calls, ms: ms / calls, cpu: (processCpuMs(pid) - cpu0) / calls };
    };
    const modes = values.plans ? ['auto', 'generic', 'auto', 'generic'] : ['as installed'];
    const rows: Record<string, string | number>[] = [];
    for (const mode of modes) {
      if (mode === 'auto') await client.query(`ALTER FUNCTION audit_append_batch RESET plan_cache_mode`);
      if (mode === 'generic') await client.query(`ALTER FUNCTION audit_append_batch SET plan_cache_mode = 'force_generic_plan'`);
      for (const c of CASES) {
        const r = await run(c);
        rows.push({
          plans: mode,
          'events × patients': `${c.events} × ${c.patients}`,
          calls: r.calls,
          'ms a call': Math.round(r.ms * 1000) / 1000,
          'backend CPU ms a call': Math.round(r.cpu * 1000) / 1000,
        });
      }
    }
    console.log(`synchronous_commit ${values.async ? 'off' : 'as configured'}; ${seconds} s a case; backend ${pid}`);
    console.table(rows);
  } finally {
    // The migration's setting back, however the run ended.
    if (values.plans) await client.query(`ALTER FUNCTION audit_append_batch SET plan_cache_mode = 'force_generic_plan'`);
    await client.end();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
