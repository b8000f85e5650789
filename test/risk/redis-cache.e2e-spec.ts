import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { Role } from 'src/organizations/organizations.enums';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { bearer, createOrganization, memberToken } from '../auth/auth-fixtures';
import { createPatient, upsertMetrics } from '../utils/factories';
import { createTestApp, TestApp } from '../utils/test-app';

/** With REDIS_URL the aggregates are cached in Redis (shared by instances); no PHI is ever written there. */
const PORT = 6400 + Math.floor(Math.random() * 500);
const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

(hasRedis ? describe : describe.skip)('aggregate cache in Redis', () => {
  let redisProcess: ChildProcess;
  let redis: Redis;
  let t: TestApp;
  let orgId: string;

  beforeAll(async () => {
    redisProcess = spawn('redis-server', ['--port', String(PORT), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = new Redis({ port: PORT, lazyConnect: true, maxRetriesPerRequest: 20 });
    for (let i = 0; i < 50; i++) {
      try {
        await redis.connect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    t = await createTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${PORT}` } });
    orgId = (await createOrganization(t.db)).id;
    const id = await createPatient(t.db, t.settings, orgId, { name: 'Rosalind Franklin', email: 'rosalind@example.test', phone: '+15550199' });
    await upsertMetrics(t.db, orgId, id, { status: 'dormant', riskLevel: 'high', riskScore: 80 });
  });
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
    redisProcess?.kill();
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
