import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import { AuthenticatedRequest } from 'src/auth/auth-context';
import { isPairedStorage, PairedThrottlerStorage, ThrottleIncrement } from 'src/auth/throttling/memory-throttler.storage';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

/** Throttler names, configured in AuthModule from the settings. */
export const IP_THROTTLER = 'ip';
export const CALLER_THROTTLER = 'caller';

/** A route's throttling, resolved once from its metadata and the throttler's options (null: resolved per request). */
type RouteThrottle = { skip: true } | (Omit<ThrottlerRequest, 'context'> & { skip: false });

/**
 * The client IP's limit of a request that carries credentials, not counted yet: the IP guard leaves it here so that
 * the caller guard can count both limits in one round trip (`incrementPair`). Whatever happens in between, it is
 * counted before the handler runs and before any answer that depends on the credentials: the AccessGuard settles it
 * (`settleIpLimit`) before it does any work on a credential it has not verified already (a signature to check, an
 * API key to look up) and before it refuses; the caller guard settles it on a route without a caller or without its
 * own limit.
 */
interface PendingIpLimit {
  guard: IpRateLimitGuard;
  context: ExecutionContext;
  increment: ThrottleIncrement;
  /** The route's IP throttling as resolved, for the 429's figures. */
  route: Omit<ThrottlerRequest, 'context'>;
  tracker: string;
}

const PENDING_IP_LIMIT = Symbol('pending-ip-limit');
type PendingRequest = { [PENDING_IP_LIMIT]?: PendingIpLimit; headers?: Record<string, unknown> };

/**
 * Counts the request's client IP limit now if the IP guard left it for later: a 429 (ProblemException) when it is
 * over. Nothing when there is none (already counted, skipped, or no credentials).
 */
export async function settleIpLimit(request: object): Promise<void> {
  const pending = takePending(request);
  if (pending) await pending.guard.countNow(pending);
}

function takePending(request: object): PendingIpLimit | undefined {
  const r = request as PendingRequest;
  const pending = r[PENDING_IP_LIMIT];
  if (pending) r[PENDING_IP_LIMIT] = undefined;
  return pending;
}

/** Shared behaviour: one counter per tracker across all routes, and a 429 problem+json with Retry-After. */
abstract class RateLimitGuard extends ThrottlerGuard {
  protected abstract readonly throttlerName: string;
  /** Each route's throttling (by controller, then handler), or null where a value is a function of the request. */
  private readonly routes = new WeakMap<Function, WeakMap<Function, RouteThrottle | null>>();

  /**
   * ThrottlerGuard's `canActivate` with the route's part done once per route: it reads five metadata entries of the
   * handler and its class and awaits three values on every request, which never change for a route unless they are
   * functions of the request (a `skipIf`, or a limit, TTL or block given as a function: those routes keep the
   * per-request path). What is left per request is `handleRequest`: the tracker, the counter, the 429.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    let byHandler = this.routes.get(controller);
    if (byHandler === undefined) this.routes.set(controller, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (route === undefined) byHandler.set(handler, (route = this.routeThrottle(handler, controller)));
    return this.activate(context, route);
  }

  /** The guard's work for a route whose throttling is resolved (`route`), or resolved per request (null). */
  protected async activate(context: ExecutionContext, route: RouteThrottle | null): Promise<boolean> {
    if (route === null) return super.canActivate(context);
    if (route.skip) return true;
    return this.handleRequest({ ...route, context });
  }

  private routeThrottle(handler: Function, controller: Function): RouteThrottle | null {
    const throttler = this.throttlers[0] as ThrottlerOptions | undefined;
    if (this.throttlers.length !== 1 || throttler === undefined) return null;
    if (throttler.skipIf || this.commonOptions.skipIf) return null;
    const meta = <T>(key: string): T | undefined => this.reflector.getAllAndOverride<T | undefined>(key + throttler.name, [handler, controller]);
    if (meta<boolean>(THROTTLER_SKIP)) return { skip: true };
    const limit = meta<unknown>(THROTTLER_LIMIT) ?? throttler.limit;
    const ttl = meta<unknown>(THROTTLER_TTL) ?? throttler.ttl;
    const block = meta<unknown>(THROTTLER_BLOCK_DURATION) ?? throttler.blockDuration ?? ttl;
    if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof block !== 'number') return null;
    return {
      skip: false,
      limit,
      ttl,
      blockDuration: block,
      throttler,
      getTracker: meta<ThrottlerRequest['getTracker']>(THROTTLER_TRACKER) ?? throttler.getTracker ?? (this.commonOptions.getTracker as ThrottlerRequest['getTracker']),
      generateKey: meta<ThrottlerRequest['generateKey']>(THROTTLER_KEY_GENERATOR) ?? throttler.generateKey ?? (this.commonOptions.generateKey as ThrottlerRequest['generateKey']),
    };
  }

  /**
   * Each guard keeps only its own throttler: ThrottlerGuard reads six route metadata entries and awaits three values
   * per throttler on every request before `handleRequest` (which skips the other guard's throttler anyway).
   */
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.throttlers = this.throttlers.filter((t) => t.name === this.throttlerName);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    if (props.throttler.name !== this.throttlerName) return true;
    return super.handleRequest(props);
  }

  /** ThrottlerGuard's `handleRequest` after the count, for a count made elsewhere (`incrementPair`): 429 when blocked. */
  protected async refuseIfBlocked(
    context: ExecutionContext,
    route: Omit<ThrottlerRequest, 'context'>,
    key: string,
    tracker: string,
    record: Awaited<ReturnType<ThrottlerStorage['increment']>>,
  ): Promise<void> {
    if (!record.isBlocked) return;
    await this.throwThrottlingException(context, { limit: route.limit, ttl: route.ttl, key, tracker, ...record });
  }

  /** Whether this route's counter can be counted by `incrementPair` (nothing of `handleRequest`'s extras in use). */
  protected pairable(route: Omit<ThrottlerRequest, 'context'>): boolean {
    const setHeaders = route.throttler.setHeaders ?? this.commonOptions.setHeaders ?? true;
    return !setHeaders && !(route.throttler.ignoreUserAgents ?? this.commonOptions.ignoreUserAgents) && isPairedStorage(this.storageService);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    throw new ProblemException(
      ProblemCode.TooManyRequests,
      HttpStatus.TOO_MANY_REQUESTS,
      `Rate limit of ${detail.limit} requests per ${Math.round(detail.ttl / 1000)} s exceeded; retry after ${retryAfter} s`,
      undefined,
      { 'retry-after': String(retryAfter) },
    );
  }
}

/**
 * Runs before authentication: limits each client IP, so that guessing tokens or keys is slow. A request without
 * credentials is counted here; one with an `Authorization` header is left pending (`PendingIpLimit`) and counted with
 * its caller's limit in one round trip by the caller guard, or by `settleIpLimit` before any credential work that
 * could tell a guesser something: every request is counted once, before its handler, and one over the limit gets
 * the 429 whatever its credentials.
 */
@Injectable()
export class IpRateLimitGuard extends RateLimitGuard {
  protected readonly throttlerName = IP_THROTTLER;

  protected override async activate(context: ExecutionContext, route: RouteThrottle | null): Promise<boolean> {
    if (route === null || route.skip || !this.pairable(route)) return super.activate(context, route);
    const request = context.switchToHttp().getRequest<PendingRequest & Record<string, unknown>>();
    if (request.headers?.authorization === undefined) return super.activate(context, route);
    const tracker = await route.getTracker(request, context);
    const key = route.generateKey(context, tracker, route.throttler.name as string);
    request[PENDING_IP_LIMIT] = {
      guard: this,
      context,
      route,
      tracker,
      increment: { key, ttl: route.ttl, limit: route.limit, blockDuration: route.blockDuration, throttlerName: route.throttler.name as string },
    };
    return true;
  }

  /** A pending IP limit counted alone (`settleIpLimit`). */
  async countNow(pending: PendingIpLimit): Promise<void> {
    const { key, ttl, limit, blockDuration, throttlerName } = pending.increment;
    await this.refusePending(pending, await this.storageService.increment(key, ttl, limit, blockDuration, throttlerName));
  }

  /** The 429 of a pending IP limit counted over it. */
  async refusePending(pending: PendingIpLimit, record: Awaited<ReturnType<ThrottlerStorage['increment']>>): Promise<void> {
    await this.refuseIfBlocked(pending.context, pending.route, pending.increment.key, pending.tracker, record);
  }
}

/**
 * Runs after the AccessGuard: limits each authenticated caller (user or API key), wherever it comes from; with the
 * client IP's pending limit, both in one round trip (the IP's first: a request over it is refused and not counted
 * against its caller, as when the IP guard refused it).
 */
@Injectable()
export class CallerRateLimitGuard extends RateLimitGuard {
  protected readonly throttlerName = CALLER_THROTTLER;

  protected override async activate(context: ExecutionContext, route: RouteThrottle | null): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & PendingRequest>();
    const pending = takePending(request);
    const auth = request.auth;
    if (pending && auth && route !== null && !route.skip && this.pairable(route)) {
      const tracker = `${auth.actor.type}:${auth.actor.id}`;
      const key = route.generateKey(context, tracker, route.throttler.name as string);
      const caller: ThrottleIncrement = { key, ttl: route.ttl, limit: route.limit, blockDuration: route.blockDuration, throttlerName: route.throttler.name as string };
      const [ip, counted] = await (this.storageService as PairedThrottlerStorage).incrementPair(pending.increment, caller);
      await pending.guard.refusePending(pending, ip);
      if (counted) await this.refuseIfBlocked(context, route, key, tracker, counted);
      return true;
    }
    if (pending) await pending.guard.countNow(pending);
    return super.activate(context, route);
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const auth = props.context.switchToHttp().getRequest<AuthenticatedRequest>().auth;
    if (!auth) return true; // public route: the IP limit applies
    return super.handleRequest({ ...props, getTracker: () => `${auth.actor.type}:${auth.actor.id}` });
  }
}
