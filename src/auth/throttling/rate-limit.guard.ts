import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions, ThrottlerRequest } from '@nestjs/throttler';
import {
  THROTTLER_BLOCK_DURATION,
  THROTTLER_KEY_GENERATOR,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TRACKER,
  THROTTLER_TTL,
} from '@nestjs/throttler/dist/throttler.constants';
import { AuthenticatedRequest } from 'src/auth/auth-context';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

/** Throttler names, configured in AuthModule from the settings. */
export const IP_THROTTLER = 'ip';
export const CALLER_THROTTLER = 'caller';

/** A route's throttling, resolved once from its metadata and the throttler's options (null: resolved per request). */
type RouteThrottle = { skip: true } | (Omit<ThrottlerRequest, 'context'> & { skip: false });

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

/** Runs before authentication: limits each client IP, so that guessing tokens or keys is slow. */
@Injectable()
export class IpRateLimitGuard extends RateLimitGuard {
  protected readonly throttlerName = IP_THROTTLER;
}

/** Runs after the AccessGuard: limits each authenticated caller (user or API key), wherever it comes from. */
@Injectable()
export class CallerRateLimitGuard extends RateLimitGuard {
  protected readonly throttlerName = CALLER_THROTTLER;

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const auth = props.context.switchToHttp().getRequest<AuthenticatedRequest>().auth;
    if (!auth) return true; // public route: the IP limit applies
    return super.handleRequest({ ...props, getTracker: () => `${auth.actor.type}:${auth.actor.id}` });
  }
}
