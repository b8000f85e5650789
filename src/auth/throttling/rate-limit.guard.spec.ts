import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { SkipThrottle, Throttle, ThrottlerModuleOptions } from '@nestjs/throttler';
import { MemoryThrottlerStorage } from 'src/auth/throttling/memory-throttler.storage';
import { CALLER_THROTTLER, CallerRateLimitGuard, IP_THROTTLER, IpRateLimitGuard, settleIpLimit } from 'src/auth/throttling/rate-limit.guard';
import { ProblemException } from 'src/common/problem/problem';

@Controller()
class Routes {
  @Get('plain')
  plain(): void {}

  @Get('skipped')
  @SkipThrottle({ [IP_THROTTLER]: true })
  skipped(): void {}

  @Get('tighter')
  @Throttle({ [IP_THROTTLER]: { limit: 2, ttl: 60_000 } })
  tighter(): void {}

  @Get('by-request')
  @Throttle({ [IP_THROTTLER]: { limit: (ctx) => (ctx.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-vip'] ? 4 : 1), ttl: 60_000 } })
  byRequest(): void {}
}

const OPTIONS: ThrottlerModuleOptions = {
  throttlers: [
    { name: IP_THROTTLER, ttl: 60_000, limit: 3 },
    { name: CALLER_THROTTLER, ttl: 60_000, limit: 5 },
  ],
  setHeaders: false,
};

/** The routes' throttling resolved once per route gives, request by request, what ThrottlerGuard's own path gives. */
describe('rate-limit guards (route throttling resolved once per route)', () => {
  let storage: MemoryThrottlerStorage;
  let ipGuard: IpRateLimitGuard;
  let callerGuard: CallerRateLimitGuard;
  beforeEach(async () => {
    storage = new MemoryThrottlerStorage();
    ipGuard = new IpRateLimitGuard(OPTIONS, storage, new Reflector());
    callerGuard = new CallerRateLimitGuard(OPTIONS, storage, new Reflector());
    await ipGuard.onModuleInit();
    await callerGuard.onModuleInit();
  });
  afterEach(() => storage.onApplicationShutdown());

  const context = (handler: keyof Routes, request: Record<string, unknown>): ExecutionContextHost => {
    const ctx = new ExecutionContextHost([{ headers: {}, ...request }, { header: () => undefined }], Routes, Routes.prototype[handler] as () => void);
    ctx.setType('http');
    return ctx;
  };
  /** The guard's answers for `n` requests: true, or the status of the problem it threw. */
  const run = async (guard: IpRateLimitGuard | CallerRateLimitGuard, handler: keyof Routes, request: Record<string, unknown>, n: number): Promise<(boolean | number)[]> => {
    const out: (boolean | number)[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await guard.canActivate(context(handler, request)).catch((err: unknown) => (err instanceof ProblemException ? err.status : -1)));
    }
    return out;
  };

  it('counts a plain route against the configured limit, per client IP', async () => {
    expect(await run(ipGuard, 'plain', { ip: '10.0.0.1' }, 5)).toEqual([true, true, true, 429, 429]);
    expect(await run(ipGuard, 'plain', { ip: '10.0.0.2' }, 1)).toEqual([true]);
  });

  it('honours @SkipThrottle for its own throttler only', async () => {
    expect(await run(ipGuard, 'skipped', { ip: '10.0.0.3' }, 6)).toEqual([true, true, true, true, true, true]);
    expect(storage.size).toBe(0);
    const caller = { ip: '10.0.0.3', auth: { actor: { type: 'user', id: 'u1' } } };
    expect(await run(callerGuard, 'skipped', caller, 6)).toEqual([true, true, true, true, true, 429]);
  });

  it("honours a route's @Throttle limit", async () => {
    expect(await run(ipGuard, 'tighter', { ip: '10.0.0.4' }, 3)).toEqual([true, true, 429]);
  });

  it('resolves a limit given as a function of the request on every request', async () => {
    expect(await run(ipGuard, 'byRequest', { ip: '10.0.0.5' }, 2)).toEqual([true, 429]);
    expect(await run(ipGuard, 'byRequest', { ip: '10.0.0.6', headers: { 'x-vip': '1' } }, 5)).toEqual([true, true, true, true, 429]);
  });

  it('leaves a request without a caller to the IP limit (the caller guard lets it through)', async () => {
    expect(await run(callerGuard, 'plain', { ip: '10.0.0.7' }, 8)).toEqual([true, true, true, true, true, true, true, true]);
  });
});

/**
 * A request with credentials: the IP guard leaves its IP limit pending, the caller guard counts both limits in one
 * call of the store (one Redis round trip), or `settleIpLimit` counts it alone first (the AccessGuard's refusals and
 * unverified credentials). The same counters and the same 429s as two counts in turn.
 */
describe('rate-limit guards: the client IP and the caller counted together', () => {
  let storage: MemoryThrottlerStorage;
  let calls: string[];
  let ipGuard: IpRateLimitGuard;
  let callerGuard: CallerRateLimitGuard;
  beforeEach(async () => {
    storage = new MemoryThrottlerStorage();
    calls = [];
    const increment = storage.increment.bind(storage);
    const incrementPair = storage.incrementPair.bind(storage);
    let inPair = false;
    storage.increment = (...args) => (inPair || calls.push(`one ${args[4]}`), increment(...args));
    storage.incrementPair = async (a, b) => {
      calls.push(`pair ${a.throttlerName}+${b.throttlerName}`);
      inPair = true;
      try {
        return await incrementPair(a, b);
      } finally {
        inPair = false;
      }
    };
    ipGuard = new IpRateLimitGuard(OPTIONS, storage, new Reflector());
    callerGuard = new CallerRateLimitGuard(OPTIONS, storage, new Reflector());
    await ipGuard.onModuleInit();
    await callerGuard.onModuleInit();
  });
  afterEach(() => storage.onApplicationShutdown());

  const request = (ip: string, user: string | null): Record<string, unknown> => ({
    ip,
    headers: { authorization: 'Bearer t' },
    ...(user ? { auth: { actor: { type: 'user', id: user } } } : {}),
  });
  const context = (handler: keyof Routes, req: Record<string, unknown>): ExecutionContextHost => {
    const ctx = new ExecutionContextHost([req, { header: () => undefined }], Routes, Routes.prototype[handler] as () => void);
    ctx.setType('http');
    return ctx;
  };
  /** The IP guard, then (as the AccessGuard would let it through) the caller guard: true or the problem's status. */
  const both = async (handler: keyof Routes, req: Record<string, unknown>): Promise<boolean | number> => {
    try {
      await ipGuard.canActivate(context(handler, req));
      return await callerGuard.canActivate(context(handler, req));
    } catch (err) {
      return err instanceof ProblemException ? err.status : -1;
    }
  };

  it('one count of the store per request for both limits; the IP limit (3) first, the caller not counted past it', async () => {
    const out: (boolean | number)[] = [];
    for (let i = 0; i < 5; i++) out.push(await both('plain', request('10.1.0.1', 'u1')));
    expect(out).toEqual([true, true, true, 429, 429]);
    expect(calls).toEqual(Array(5).fill(`pair ${IP_THROTTLER}+${CALLER_THROTTLER}`));
    // The caller's counter saw only the three requests the IP limit let through: two more from another address pass.
    calls = [];
    expect([await both('plain', request('10.1.0.2', 'u1')), await both('plain', request('10.1.0.2', 'u1'))]).toEqual([true, true]);
    expect(await both('plain', request('10.1.0.3', 'u1'))).toBe(429); // the sixth counted: over the caller's 5
  });

  it("the 429 carries the limit that refused and a Retry-After; the caller's refusal its own", async () => {
    for (let i = 0; i < 3; i++) await both('plain', request('10.1.0.4', 'u2'));
    const refusal = (req: Record<string, unknown>): Promise<unknown> =>
      ipGuard
        .canActivate(context('plain', req))
        .then(() => callerGuard.canActivate(context('plain', req)))
        .catch((e: unknown) => e);
    const ipRefusal = await refusal(request('10.1.0.4', 'u2'));
    expect(ipRefusal).toBeInstanceOf(ProblemException);
    expect((ipRefusal as ProblemException).detail).toContain('Rate limit of 3 requests per 60 s');
    expect(Number((ipRefusal as ProblemException).headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 2; i++) await both('plain', request('10.1.0.5', 'u2'));
    const callerRefusal = await refusal(request('10.1.0.6', 'u2'));
    expect((callerRefusal as ProblemException).detail).toContain('Rate limit of 5 requests per 60 s');
  });

  it('settleIpLimit counts the pending IP limit alone, once (the caller guard then counts only the caller)', async () => {
    const req = request('10.1.0.7', 'u3');
    await ipGuard.canActivate(context('plain', req));
    expect(calls).toEqual([]);
    await settleIpLimit(req);
    await settleIpLimit(req);
    expect(calls).toEqual([`one ${IP_THROTTLER}`]);
    await callerGuard.canActivate(context('plain', req));
    expect(calls).toEqual([`one ${IP_THROTTLER}`, `one ${CALLER_THROTTLER}`]);
  });

  it('settleIpLimit refuses a request over the IP limit whatever its credentials', async () => {
    for (let i = 0; i < 3; i++) await both('plain', request('10.1.0.8', null));
    const req = request('10.1.0.8', null);
    await ipGuard.canActivate(context('plain', req));
    await expect(settleIpLimit(req)).rejects.toMatchObject({ status: 429 });
  });

  it('a request with credentials but no caller (public route) is still counted by IP, by the caller guard', async () => {
    const out: (boolean | number)[] = [];
    for (let i = 0; i < 4; i++) out.push(await both('plain', request('10.1.0.9', null)));
    expect(out).toEqual([true, true, true, 429]);
    expect(calls).toEqual(Array(4).fill(`one ${IP_THROTTLER}`));
  });

  it('a request without credentials is counted by the IP guard itself, as before', async () => {
    const req = { ip: '10.1.0.10', headers: {} };
    expect(await ipGuard.canActivate(context('plain', req))).toBe(true);
    expect(calls).toEqual([`one ${IP_THROTTLER}`]);
  });

  it("a route that skips the caller's limit still counts the IP's", async () => {
    const out: (boolean | number)[] = [];
    for (let i = 0; i < 4; i++) out.push(await both('plain', request('10.1.0.11', 'u4')));
    expect(out[3]).toBe(429);
    calls = [];
    // 'skipped' skips the IP throttler (its own limit is not counted at all); a fresh address for it
    expect(await both('skipped', request('10.1.0.12', 'u5'))).toBe(true);
    expect(calls).toEqual([`one ${CALLER_THROTTLER}`]);
  });
});

