import { randomInt } from 'node:crypto';
import Redis from 'ioredis';
import { MeService } from 'src/auth/me.service';
import { RATE_LIMIT_STORAGE } from 'src/auth/throttling/rate-limit.module';
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

  /** The user id a development token stands for (its `sub`). */
  const subject = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { sub: string }).sub;

  it('counts the IP and the caller of an authenticated request in one Redis command, under the same keys as before', async () => {
    const org = await createOrganization(a.db);
    const token = await memberToken(a, org.id, Role.Analyst);
    const ip = randomIp();
    const storage = a.app.get<{ increment: (...args: unknown[]) => unknown; incrementPair: (...args: unknown[]) => unknown }>(RATE_LIMIT_STORAGE, { strict: false });
    const one = jest.spyOn(storage, 'increment');
    const pair = jest.spyOn(storage, 'incrementPair');
    const redis = new Redis(redisUrl);
    try {
      // A token this instance has not verified yet: the IP counted alone before its signature is checked, then the caller.
      expect((await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': randomIp(), ...bearer(token) } })).statusCode).toBe(200);
      expect([one.mock.calls.length, pair.mock.calls.length]).toEqual([2, 0]);
      one.mockClear();
      // Verified now: both limits in one command.
      const res = await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip, ...bearer(token) } });
      expect(res.statusCode).toBe(200);
      expect([one.mock.calls.length, pair.mock.calls.length]).toEqual([0, 1]);
      // The keys and windows the two guards' separate scripts wrote (shared with instances running the older code).
      expect(await redis.get(`pj:throttle:ip:ip:${ip}`)).toBe('1');
      expect(await redis.get(`pj:throttle:caller:caller:user:${subject(token)}`)).toBe('2');
      const ttl = await redis.pttl(`pj:throttle:ip:ip:${ip}`);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      // A request without credentials: the IP alone, counted by the IP guard.
      expect((await a.inject({ method: 'GET', url: '/health', headers: { 'x-forwarded-for': ip } })).statusCode).toBe(200);
      expect([one.mock.calls.length, pair.mock.calls.length]).toEqual([1, 1]);
      expect(await redis.get(`pj:throttle:ip:ip:${ip}`)).toBe('2');
    } finally {
      one.mockRestore();
      pair.mockRestore();
      redis.disconnect();
    }
  });

  it('a valid token from an address over its limit gets the 429 before the handler runs, and its caller is not counted', async () => {
    const org = await createOrganization(a.db);
    const token = await memberToken(a, org.id, Role.Analyst);
    const ip = randomIp();
    // Verified once (the AccessGuard remembers the token, so the next request from the blocked address takes the
    // path where the IP limit is counted with the caller's), from another address.
    expect((await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': randomIp(), ...bearer(token) } })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip } })).statusCode).toBe(401);
    const handler = jest.spyOn(MeService.prototype, 'get');
    try {
      const refused = await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip, ...bearer(token) } });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.json()).toMatchObject({ status: 429, detail: expect.stringContaining('Rate limit of 5 requests') });
      // An organization route: the membership is read, the refusal is still the 429, not the 403 of a non-member.
      const other = await createOrganization(a.db);
      const notMember = await a.inject({ method: 'GET', url: `/api/v1/patients/${other.id}/risk-summary`, headers: { 'x-forwarded-for': ip, ...bearer(token) } });
      expect(notMember.statusCode).toBe(429);
      // A malformed token and an API key from the blocked address: the 429, not the 401.
      expect((await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': ip, authorization: 'Bearer nope' } })).statusCode).toBe(429);
      expect((await a.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/risk-summary`, headers: { 'x-forwarded-for': ip, authorization: 'Bearer pjk_0000000000000000000000000000000000' } })).statusCode).toBe(429);
      expect(handler).not.toHaveBeenCalled();
    } finally {
      handler.mockRestore();
    }
    // The caller's limit (3) saw one request (the first): two more pass from other addresses, the fourth is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await a.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-forwarded-for': randomIp(), ...bearer(token) } })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
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
