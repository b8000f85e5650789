/**
 * Throughput of an audited patient-list route against the same handler without @Audited, 50 concurrent clients
 * over HTTP (autocannon) on this machine. Not part of the suite; run it with:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx jest --testMatch '**\/test/audit/*.bench.ts' --testTimeout 600000
 * Optional: AUDIT_BENCH_SECONDS (default 8), AUDIT_BENCH_ROUNDS (default 3).
 */
import autocannon from 'autocannon';
import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from '../auth/auth-fixtures';
import { AuditTestApp, createAuditTestApp } from './audit-test-app';
import { addPatients, auditRows } from './audit-fixtures';

const SECONDS = Number(process.env.AUDIT_BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.AUDIT_BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;

async function run(url: string, headers: Record<string, string>): Promise<{ rps: number; p50: number; p99: number; non2xx: number; total: number }> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, total: r.requests.total };
}

describe('audit throughput', () => {
  let t: AuditTestApp;
  afterAll(async () => {
    await t.close();
  });

  it('measures profiles with and without auditing', async () => {
    t = await createAuditTestApp({ env: { DATABASE_POOL_SIZE: '20', RATE_LIMIT_LIMIT: '1000000', RATE_LIMIT_IP_LIMIT: '1000000' } });
    const org = await createOrganization(t.db);
    await addPatients(t.db, org.id, Array.from({ length: 40 }, (_, i) => `Patient ${i}`));
    const headers = bearer(await memberToken(t, org.id, Role.Clinician));
    await t.app.listen(0, '127.0.0.1');
    const base = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    const audited = `${base}/api/v1/audit-test/${org.id}/profiles`;
    const plain = `${base}/api/v1/audit-test/${org.id}/profiles-unaudited`;
    await run(plain, headers); // warm-up
    const results: Record<string, Awaited<ReturnType<typeof run>>[]> = { plain: [], audited: [] };
    for (let round = 0; round < ROUNDS; round++) {
      results.plain.push(await run(plain, headers));
      results.audited.push(await run(audited, headers));
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const p = mean(results.plain.map((r) => r.rps));
    const a = mean(results.audited.map((r) => r.rps));
    process.stdout.write(
      `\nprofiles (20 per page), ${CONNECTIONS} connections, ${SECONDS}s x ${ROUNDS} alternating rounds\n` +
        `  without auditing: ${p.toFixed(0)} req/s  (p50 ${results.plain.map((r) => r.p50).join('/')} ms, p99 ${results.plain.map((r) => r.p99).join('/')} ms)\n` +
        `  with auditing:    ${a.toFixed(0)} req/s  (p50 ${results.audited.map((r) => r.p50).join('/')} ms, p99 ${results.audited.map((r) => r.p99).join('/')} ms)\n` +
        `  cost: ${(((p - a) / p) * 100).toFixed(1)}%\n`,
    );
    for (const r of [...results.plain, ...results.audited]) expect(r.non2xx).toBe(0);
    // autocannon counts the answers received within the duration; a few more were in flight when it stopped.
    const events = await auditRows(t.db, org.id);
    expect(events.length).toBeGreaterThanOrEqual(results.audited.reduce((n, r) => n + r.total, 0));
    expect(events.length).toBeLessThanOrEqual(results.audited.reduce((n, r) => n + r.total, 0) + ROUNDS * CONNECTIONS);
    const res = await t.inject({ method: 'GET', url: `/api/v1/audit/${org.id}/verify`, headers: bearer(await memberToken(t, org.id, Role.Admin)) });
    expect(res.json()).toMatchObject({ valid: true, events_checked: events.length });
  });
});
