import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerRequest } from '@nestjs/throttler';
import { AuthenticatedRequest } from 'src/auth/auth-context';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

/** Throttler names, configured in AuthModule from the settings. */
export const IP_THROTTLER = 'ip';
export const CALLER_THROTTLER = 'caller';

/** Shared behaviour: one counter per tracker across all routes, and a 429 problem+json with Retry-After. */
abstract class RateLimitGuard extends ThrottlerGuard {
  protected abstract readonly throttlerName: string;

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
