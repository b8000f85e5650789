import { spawnSync } from 'node:child_process';
import Redis from 'ioredis';
import { Role } from 'src/organizations/organizations.enums';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { describeUnless } from 'test/utils/skip-unless';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * With REDIS_URL the aggregates are cached in Redis (shared by instances); no PHI is ever written there. Runs against
 * the machine's Redis: TEST_REDIS_URL, else redis://127.0.0.1:6379, database 14 (keys are checked per organization,
 * so another run sharing it changes nothing). Without a Redis answering there the test is skipped with the reason
 * printed; in CI (CI=true) a missing Redis fails the run instead (.ci/run starts one when the machine has none).
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/14';

/** Whether a Redis answers PING at REDIS_URL (checked once, synchronously, before the tests are declared). */
function redisAnswers(url: string): boolean {
  const probe = `const R=require('ioredis');const r=new R(${JSON.stringify(url)},{lazyConnect:true,connectTimeout:2000,maxRetriesPerRequest:0,retryStrategy:()=>null});
    r.connect().then(()=>r.ping()).then((p)=>{r.disconnect();process.exit(p==='PONG'?0:1)},()=>process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: __dirname, timeout: 10_000 }).status === 0;
}

const available = redisAnswers(REDIS_URL);
if (!available && process.env.CI === 'true') throw new Error(`CI: no Redis answers at ${REDIS_URL}; the Redis cache test must run in CI`);

describeUnless(available ? null : `no Redis answers at ${REDIS_URL} (set TEST_REDIS_URL)`, 'aggregate cache in Redis', () => {
  let redis: Redis;
  let t: TestApp;
  let orgId: string;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    t = await createTestApp({ env: { REDIS_URL } });
    orgId = (await createOrganization(t.db)).id;
    const id = await createPatient(t.db, t.settings, orgId, { name: 'Rosalind Franklin', email: 'rosalind@example.test', phone: '+15550199' });
    await upsertMetrics(t.db, orgId, id, { status: 'dormant', riskLevel: 'high', riskScore: 80 });
  });
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
  });

  it('stores the counts in Redis, without PHI, and invalidation removes them', async () => {
    const admin = await memberToken(t, orgId, Role.Admin);
    const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profiles?search=ros`, headers: bearer(admin) });
    expect(list.statusCode).toBe(200);
    expect(list.json().patients[0].email).toBe('rosalind@example.test');
    const risk = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/risk-summary`, headers: bearer(admin) });
    expect(risk.json().risk_distribution.high_risk).toBe(1);

    const keys = await redis.keys('*');
    expect(keys.some((k) => k.includes(`patients:counts:${orgId}`))).toBe(true);
    const dump = (keys.join('\n') + (await Promise.all(keys.map(async (k) => ((await redis.type(k)) === 'string' ? await redis.get(k) : '')))).join('\n')).toLowerCase();
    for (const phi of ['rosalind', 'franklin', 'rosalind@example.test', '+15550199', 'ros:']) expect(dump).not.toContain(phi);

    await t.app.get(PatientCountsService).invalidate(orgId);
    expect((await redis.keys('*')).some((k) => k.includes(`patients:counts:${orgId}`))).toBe(false);
  });
});
