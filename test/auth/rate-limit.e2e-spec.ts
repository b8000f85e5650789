import { randomInt } from 'node:crypto';
import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';

const LIMITS = {
  // The tests stand for clients behind one trusted proxy: X-Forwarded-For names the client.
  TRUST_PROXY: 'true',
  RATE_LIMIT_TTL_SECONDS: '60',
  RATE_LIMIT_LIMIT: '3',
  RATE_LIMIT_IP_LIMIT: '5',
};
/** A random client address per test, so that counters (kept 60 s, also in Redis) never carry over. */
const randomIp = (): string => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

describe('rate limiting', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: LIMITS });
  });
  afterAll(async () => {
    await t.close();
  });

  const me = (ip: string, headers: Record<string, string> = {}) =>
    t.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip, ...headers } });

  it('limits each client IP before authentication, with a 429 problem and Retry-After', async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await me(ip)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const res = await me(ip);
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.json()).toMatchObject({ status: 429, type: expect.stringContaining('/too-many-requests') });
    expect((await me(randomIp())).statusCode).toBe(401);
  });

  it('limits each authenticated caller wherever its requests come from', async () => {
    const org = await createOrganization(t.db);
    const token = await memberToken(t, org.id, Role.Analyst);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await me(randomIp(), bearer(token))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const other = await memberToken(t, org.id, Role.Analyst);
    expect((await me(randomIp(), bearer(other))).statusCode).toBe(200);
  });

  it('leaves the health probes to the IP limit only', async () => {
    const ip = randomIp();
    for (let i = 0; i < 5; i++)
      expect((await t.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': ip } })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': ip } })).statusCode).toBe(429);
  });
});

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

describe('rate limiting with REDIS_URL: counters shared by all instances', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ env: { ...LIMITS, REDIS_URL: redisUrl } });
    b = await createTestApp({ env: { ...LIMITS, REDIS_URL: redisUrl } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('counts one client IP across two app instances', async () => {
    const ip = randomIp();
    const hit = (t: TestApp) => t.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip } });
    const statuses: number[] = [];
    for (const t of [a, b, a, b, a, b]) statuses.push((await hit(t)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await hit(a);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('rate limiting without a trusted proxy', () => {
  it('ignores X-Forwarded-For: a client cannot pick a fresh address per request', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT_TTL_SECONDS: '60', RATE_LIMIT_LIMIT: '3', RATE_LIMIT_IP_LIMIT: '5' } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push((await t.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': randomIp() } })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await t.close();
    }
  });
});
