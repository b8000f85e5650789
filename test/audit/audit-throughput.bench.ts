/**
 * Throughput of GET /api/v1/patients/:org/profiles with and without auditing: the same app, handler and data, 50
 * concurrent clients over HTTP (autocannon), alternating rounds. The baseline is a second app instance built
 * while the handler's @Audited metadata was removed (and with it toggled off during its rounds): no production
 * switch exists. Not part of the suite; run it with:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx jest --testMatch '**\/test/audit/*.bench.ts' --testTimeout 900000
 * Optional: AUDIT_BENCH_SECONDS (default 8), AUDIT_BENCH_ROUNDS (default 3), AUDIT_BENCH_PATIENTS (default 200).
 */
import autocannon from 'autocannon';
import { AUDITED } from 'src/audit/recording/audited.decorator';
import { Role } from 'src/organizations/organizations.enums';
import { PatientsController } from 'src/patients/patients.controller';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { AuditTestApp, createAuditTestApp } from 'test/audit/audit-test-app';
import { addScoredPatients, auditRows } from 'test/audit/audit-fixtures';

const SECONDS = Number(process.env.AUDIT_BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.AUDIT_BENCH_ROUNDS ?? 3);
const PATIENTS = Number(process.env.AUDIT_BENCH_PATIENTS ?? 200);
const CONNECTIONS = 50;
const FASTIFY_ROUTE_CONFIG = '__fastify_route_config__';
const ENV = { DATABASE_POOL_SIZE: '20', RATE_LIMIT_LIMIT: '1000000', RATE_LIMIT_IP_LIMIT: '1000000' };

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  total: number;
}

async function run(url: string, headers: Record<string, string>): Promise<Run> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx + r.errors, total: r.requests.total };
}

describe('audit throughput', () => {
  const handler = PatientsController.prototype.listPatientProfiles as object;
  const audited = Reflect.getMetadata(AUDITED, handler) as unknown;
  const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG, handler) as unknown;
  const auditing = (on: boolean): void => {
    if (on) {
      Reflect.defineMetadata(AUDITED, audited, handler);
      Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG, config, handler);
    } else {
      Reflect.deleteMetadata(AUDITED, handler);
      Reflect.deleteMetadata(FASTIFY_ROUTE_CONFIG, handler);
    }
  };
  let withAudit: AuditTestApp;
  let without: AuditTestApp;
  afterAll(async () => {
    auditing(true);
    await without?.close();
    await withAudit?.close();
  });

  it('measures profiles with and without auditing', async () => {
    expect(audited).toBeDefined();
    withAudit = await createAuditTestApp({ env: ENV });
    auditing(false);
    without = await createAuditTestApp({ env: ENV, db: withAudit.db });
    auditing(true);

    const org = await createOrganization(withAudit.db);
    await addScoredPatients(withAudit.db, org.id, Array.from({ length: PATIENTS }, (_, i) => `Patient ${String(i).padStart(4, '0')}`));
    const headers = bearer(await memberToken(withAudit, org.id, Role.Clinician));
    const url = async (t: AuditTestApp): Promise<string> => {
      await t.app.listen(0, '127.0.0.1');
      return `${(await t.app.getUrl()).replace('[::1]', '127.0.0.1')}/api/v1/patients/${org.id}/profiles?limit=20`;
    };
    const audUrl = await url(withAudit);
    const plainUrl = await url(without);

    auditing(false);
    await run(plainUrl, headers); // warm-up, both
    expect(await auditRows(withAudit.db, org.id)).toHaveLength(0);
    auditing(true);
    await run(audUrl, headers);
    const before = (await auditRows(withAudit.db, org.id)).length;

    const results: Record<'plain' | 'audited', Run[]> = { plain: [], audited: [] };
    for (let round = 0; round < ROUNDS; round++) {
      auditing(false);
      results.plain.push(await run(plainUrl, headers));
      auditing(true);
      results.audited.push(await run(audUrl, headers));
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const p = mean(results.plain.map((r) => r.rps));
    const a = mean(results.audited.map((r) => r.rps));
    process.stdout.write(
      `\nGET /patients/:org/profiles?limit=20 (${PATIENTS} patients), ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} alternating rounds\n` +
        `  without auditing: ${p.toFixed(0)} req/s  rounds ${results.plain.map((r) => r.rps.toFixed(0)).join('/')}  p50 ${results.plain.map((r) => r.p50).join('/')} ms  p99 ${results.plain.map((r) => r.p99).join('/')} ms\n` +
        `  with auditing:    ${a.toFixed(0)} req/s  rounds ${results.audited.map((r) => r.rps.toFixed(0)).join('/')}  p50 ${results.audited.map((r) => r.p50).join('/')} ms  p99 ${results.audited.map((r) => r.p99).join('/')} ms\n` +
        `  cost of auditing: ${(((p - a) / p) * 100).toFixed(1)}%\n`,
    );
    for (const r of [...results.plain, ...results.audited]) expect(r.non2xx).toBe(0);
    // Every answer autocannon counted has its event (a few more were in flight when a round stopped).
    const recorded = (await auditRows(withAudit.db, org.id)).length - before;
    expect(recorded).toBeGreaterThanOrEqual(results.audited.reduce((n, r) => n + r.total, 0));
    const res = await withAudit.inject({ method: 'GET', url: `/api/v1/audit/${org.id}/verify`, headers: bearer(await memberToken(withAudit, org.id, Role.Admin)) });
    expect(res.json()).toMatchObject({ valid: true, first_broken: null });
  });
});
