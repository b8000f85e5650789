/** The dependencies whose failure the app answers with 503: named in logs only, never to callers. */
export type Dependency = 'database' | 'redis';

/**
 * A dependency the request needs is away (it timed out, refused, or its circuit breaker is open). The problem filter
 * answers it with 503 problem+json and `Retry-After: retryAfterSeconds`, naming no internals. Its `cause` is for the
 * log only (it never carries PHI: it is a driver's or a breaker's error).
 */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly retryAfterSeconds: number,
    readonly reason: 'timeout' | 'unreachable' | 'circuit-open',
    options: { cause?: unknown } = {},
  ) {
    super(`${dependency} unavailable (${reason})`, options);
    this.name = 'ServiceUnavailableError';
  }
}

export const isServiceUnavailable = (err: unknown): err is ServiceUnavailableError => err instanceof ServiceUnavailableError;
