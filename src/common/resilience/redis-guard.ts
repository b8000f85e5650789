import { DependencyBreaker } from 'src/common/resilience/dependency-breaker';

export interface RedisGuardOptions {
  /** Longest wait for one command (REDIS_TIMEOUT_MS). */
  timeoutMs: number;
  /** Consecutive failures that open the breaker (REDIS_BREAKER_FAILURES). */
  failures: number;
  /** While open, after how long one command is tried again (REDIS_BREAKER_HALF_OPEN_MS). */
  halfOpenAfterMs: number;
  onStateChange?: (state: 'closed' | 'open' | 'half-open') => void;
}

/**
 * Every Redis command of the app's own code (the aggregate cache, the rate-limit counters) goes through here: bounded
 * by `timeoutMs`, and through a circuit breaker (cockatiel) that, once open, fails commands at once so that their
 * callers bypass Redis (answer from the database, count in process memory) without waiting. Redis only saves work
 * or shares counters: its failure never fails a request.
 */
export class RedisGuard {
  readonly breaker: DependencyBreaker;

  constructor(readonly options: RedisGuardOptions) {
    this.breaker = new DependencyBreaker({
      dependency: 'redis',
      failures: options.failures,
      halfOpenAfterMs: options.halfOpenAfterMs,
      retryAfterSeconds: 1,
      isFailure: () => true,
      onStateChange: options.onStateChange && ((state) => options.onStateChange?.(state)),
    });
  }

  /** `op` within the timeout; throws ServiceUnavailableError (redis) when it fails, times out or the breaker is open. */
  run<T>(op: () => Promise<T>): Promise<T> {
    return this.breaker.run(() => withTimeout(op(), this.options.timeoutMs));
  }

  close(): void {
    this.breaker.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis command timeout after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
