import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { PausableProxy, startPausableProxy } from 'test/utils/pausable-proxy';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * The database stalls (issue #20, "Done when"): the app reaches its real PostgreSQL through a TCP proxy that the test
 * pauses, which accepts connections and answers nothing, as a SIGSTOPped server or a partition does. The settings are
 * the defaults but for the cache lifetimes, shortened so that the cached aggregates are past their lifetime when the
 * database goes away (the stale-if-error path).
 */
const ENV = {
  CACHE_TTL_SECONDS: '1',
  AUTH_CACHE_SECONDS: '1',
  DATABASE_POOL_SIZE: '10',
};
/** The worst case of a request caught by the stall: the longest statement bound (the write class's, 15 s) + its client margin + slack. */
const STALL_BOUND_MS = 15_000 + 1_000 + 2_000;
/** A request while the breaker is open: no wait for any timeout. */
const FAST_FAIL_MS = 250;

interface Timed {
  name: string;
  status: number;
  ms: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
}

describe('a stalled database: bounded answers, fast failure while the breaker is open, recovery within 5 s', () => {
  let proxy: PausableProxy;
  let t: TestApp;
  let org: string;
  let patientId: string;
  let token: string;

  const routes = (): {
    name: string;
    method: 'GET' | 'POST';
    url: string;
    payload?: unknown;
    kind: 'phi' | 'aggregate' | 'write' | 'other';
  }[] => [
    { name: 'listPatientProfiles', method: 'GET', url: `/api/v1/patients/${org}/profiles`, kind: 'phi' },
    { name: 'getPatientProfile', method: 'GET', url: `/api/v1/patients/${org}/profile/${patientId}`, kind: 'phi' },
    { name: 'getPatientJourney', method: 'GET', url: `/api/v1/patients/${org}/journey/${patientId}`, kind: 'phi' },
    { name: 'listOpportunities', method: 'GET', url: `/api/v1/patients/${org}/opportunities`, kind: 'phi' },
    { name: 'listAuditEvents', method: 'GET', url: `/api/v1/audit/${org}/events`, kind: 'other' },
    { name: 'listMembers', method: 'GET', url: `/api/v1/organizations/${org}/members`, kind: 'other' },
    { name: 'getOrganizationSettings', method: 'GET', url: `/api/v1/organizations/${org}/settings`, kind: 'other' },
    { name: 'listJobRuns', method: 'GET', url: `/api/v1/organizations/${org}/jobs`, kind: 'other' },
    { name: 'getRiskSummary', method: 'GET', url: `/api/v1/patients/${org}/risk-summary`, kind: 'aggregate' },
    { name: 'getEngagementOverview', method: 'GET', url: `/api/v1/patients/${org}/engagement/overview`, kind: 'aggregate' },
    {
      name: 'ingestRecords',
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      payload: { records: [{ record_type: 'patient', source: 'ehr', external_id: 'stall-1', name: 'Stall Patient' }] },
      kind: 'write',
    },
  ];

  const call = async (r: ReturnType<typeof routes>[number]): Promise<Timed> => {
    const started = performance.now();
    const res = await t.inject({
      method: r.method,
      url: r.url,
      headers: bearer(token),
      ...(r.payload ? { payload: r.payload as object } : {}),
    });
    return {
      name: r.name,
      status: res.statusCode,
      ms: performance.now() - started,
      headers: res.headers,
      body: res.body ? JSON.parse(res.body) : null,
    };
  };
  const timed = async (url: string): Promise<Timed> => {
    const started = performance.now();
    const res = await t.inject({ method: 'GET', url });
    return { name: url, status: res.statusCode, ms: performance.now() - started, headers: res.headers, body: JSON.parse(res.body) };
  };

  beforeAll(async () => {
    proxy = await startPausableProxy({ host: '127.0.0.1', port: 5432 });
    t = await createTestApp({ env: ENV, appDatabaseUrl: (url) => proxy.urlFor(url) });
    expect(new URL(t.settings.databaseUrl as string).port).toBe(String(proxy.port));
    org = (await createOrganization(t.db)).id;
    patientId = await createPatient(t.db, t.settings, org, { name: 'Stall Reader' });
    await upsertMetrics(t.db, org, patientId, { riskLevel: 'high', riskScore: 80, status: 'at_risk' });
    token = await memberToken(t, org, Role.Owner);
  });
  afterAll(async () => {
    proxy?.resume();
    await t?.close();
    await proxy?.close();
  });

  it('answers every route within its bound, then fails fast while open, then answers normally within 5 s of the database coming back', async () => {
    // Warm: every route answers, so that the aggregates have a last good answer.
    for (const r of routes().filter((x) => x.kind !== 'write')) expect([r.name, (await call(r)).status]).toEqual([r.name, 200]);
    const warmSummary = (await call(routes().find((r) => r.name === 'getRiskSummary')!)).body;
    expect(warmSummary.total_patients).toBe(1);
    await new Promise((r) => setTimeout(r, 1_200)); // the cached aggregates and identities pass their lifetime

    // The database stalls.
    proxy.pause();

    // Wave 1: everything at once, each caught by the stall; bounded.
    const wave1 = await Promise.all([...routes().map(call), timed('/health'), timed('/health/ready')]);
    expect(wave1).toHaveLength(routes().length + 2);
    for (const r of wave1) expect([r.name, r.ms < STALL_BOUND_MS]).toEqual([r.name, true]);
    const byName1 = new Map(wave1.map((r) => [r.name, r]));
    expect(byName1.get('/health')!.status).toBe(200);
    expect(byName1.get('/health')!.ms).toBeLessThan(500); // shares the event loop with the wave's other requests
    expect(byName1.get('/health/ready')!.status).toBe(503);
    expect(byName1.get('/health/ready')!.ms).toBeLessThan(1_000);

    if (process.env.RESILIENCE_FIGURES)
      process.stdout.write(`wave 1 (caught by the stall): ${wave1.map((r) => `${r.name} ${r.status} ${r.ms.toFixed(0)} ms`).join('; ')}\n`);

    // Wave 2: the breaker is open now; nothing waits for a timeout.
    const wave2 = await Promise.all([...routes().map(call), timed('/health'), timed('/health/ready')]);
    const byName = new Map(wave2.map((r) => [r.name, r]));
    // Aggregates: served stale, marked as such (RFC 9211 Cache-Status, Age; RFC 5861 stale-if-error). PHI, writes and
    // the rest: 503 problem+json with Retry-After, naming no internals (a PHI route whose audit event cannot be
    // written says so: audit-unavailable, also 503 + Retry-After).
    const seen = routes().map((r) => {
      const got = byName.get(r.name)!;
      const stale = {
        status: got.status,
        cacheStatus: got.headers['cache-status'],
        agePositive: Number(got.headers.age) >= 1,
        cacheControl: got.headers['cache-control'],
      };
      const unavailable = {
        status: got.status,
        retryAfter: got.headers['retry-after'],
        contentType: got.headers['content-type'],
        problem: [got.body?.status, got.body?.type],
        namesInternals: /postgres|database|pool|timeout|circuit|redis|sql/i.test(JSON.stringify(got.body)),
      };
      return { name: r.name, fast: got.ms < FAST_FAIL_MS, answer: r.kind === 'aggregate' ? stale : unavailable };
    });
    const staleAnswer = {
      status: 200,
      cacheStatus: expect.stringMatching(/^patient-journey-api; fwd=stale; fwd-status=503; ttl=-\d+; detail=stale-if-error$/),
      agePositive: true,
      cacheControl: 'private, max-age=0, stale-if-error=600',
    };
    const unavailableAnswer = {
      status: 503,
      retryAfter: '5',
      contentType: expect.stringMatching(/^application\/problem\+json/),
      problem: [503, expect.stringMatching(/\/problems\/(service|audit)-unavailable$/)],
      namesInternals: false,
    };
    expect(seen).toEqual(
      routes().map((r) => ({
        name: r.name,
        fast: true,
        answer: r.kind === 'aggregate' ? staleAnswer : unavailableAnswer,
      })),
    );
    expect(seen.filter((x) => x.answer.status === 200)).toHaveLength(2);
    if (process.env.RESILIENCE_FIGURES)
      process.stdout.write(`wave 2 (breaker open): ${wave2.map((r) => `${r.name} ${r.status} ${r.ms.toFixed(0)} ms`).join('; ')}\n`);
    expect(byName.get('getRiskSummary')!.body).toEqual(warmSummary);
    expect(byName.get('/health')!.status).toBe(200);
    expect(byName.get('/health/ready')!.status).toBe(503);
    // Fast: no wait for a timeout (STALL_BOUND_MS). It shares the event loop with the wave's other requests, so its
    // bound is theirs (alone it answers in about 20 ms; 126 ms once in CI beside the suite's other workers).
    expect(byName.get('/health/ready')!.ms).toBeLessThan(FAST_FAIL_MS);

    // The write wrote nothing.
    expect(await t.db.query(`SELECT id FROM patients WHERE organization_id = $1 AND external_id = 'stall-1'`, [org])).toEqual([]);

    // The database comes back: a normal answer within 5 s, without a request needing to trigger it.
    proxy.resume();
    const back = performance.now();
    let recovered: Timed | null = null;
    while (performance.now() - back < 5_000) {
      const r = await call(routes()[0]);
      if (r.status === 200) {
        recovered = r;
        break;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(recovered?.status).toBe(200);
    expect(performance.now() - back).toBeLessThan(5_000);
    if (process.env.RESILIENCE_FIGURES)
      process.stdout.write(`recovered: first 200 ${(performance.now() - back).toFixed(0)} ms after the database came back\n`);
    expect((await timed('/health/ready')).status).toBe(200);
    const fresh = await call(routes().find((r) => r.name === 'getRiskSummary')!);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['cache-status']).toBeUndefined();

    // The retried write converges: one copy, however often it is sent.
    const ingest = routes().find((r) => r.kind === 'write')!;
    expect((await call(ingest)).status).toBe(200);
    expect((await call(ingest)).status).toBe(200);
    expect(
      await t.db.query(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND external_id = 'stall-1'`, [org]),
    ).toEqual([{ n: 1 }]);
  }, 90_000);
});
