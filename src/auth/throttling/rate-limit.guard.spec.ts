import { Controller, Get } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { SkipThrottle, Throttle, ThrottlerModuleOptions } from '@nestjs/throttler';
import { MemoryThrottlerStorage } from 'src/auth/throttling/memory-throttler.storage';
import { CALLER_THROTTLER, CallerRateLimitGuard, IP_THROTTLER, IpRateLimitGuard } from 'src/auth/throttling/rate-limit.guard';
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
