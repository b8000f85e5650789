import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { ServiceUnavailableError, type Dependency } from 'src/common/resilience/service-unavailable';

export interface DependencyBreakerOptions {
  dependency: Dependency;
  /** Consecutive failures (errors `isFailure` accepts) that open the circuit. */
  failures: number;
  /** While open, how long before one call (or the probe) is let through to test the dependency (ms). */
  halfOpenAfterMs: number;
  /** `Retry-After` of the 503 answered while the dependency is away (seconds). */
  retryAfterSeconds: number;
  /** Whether an error means the dependency is away (a timeout, a refused or broken connection), not a bad request. */
  isFailure: (err: unknown) => boolean;
  /**
   * A cheap call to the dependency (bounded in time). While the circuit is open it runs every `halfOpenAfterMs`
   * through the breaker, so the circuit closes as soon as the dependency answers even when no request comes.
   */
  probe?: () => Promise<unknown>;
  onStateChange?: (state: 'closed' | 'open' | 'half-open', dependency: Dependency) => void;
}

/**
 * One dependency's circuit breaker (cockatiel): after `failures` consecutive failures it opens, and every call fails
 * at once with ServiceUnavailableError (`circuit-open`) instead of waiting for a timeout; after `halfOpenAfterMs` one
 * call is let through (the probe's, when a probe is given) and its success closes the circuit. A failure of the
 * dependency inside `run` becomes ServiceUnavailableError too; any other error passes through unchanged and counts
 * neither way (a 404 is an answer; a 503 for a saturated pool is this process's load, not the dependency's failure).
 */
export class DependencyBreaker {
  readonly policy: CircuitBreakerPolicy;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private closed = false;

  constructor(readonly options: DependencyBreakerOptions) {
    this.policy = circuitBreaker(handleWhen(options.isFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failures),
    });
    this.policy.onBreak(() => {
      options.onStateChange?.('open', options.dependency);
      this.startProbing();
    });
    this.policy.onHalfOpen(() => options.onStateChange?.('half-open', options.dependency));
    this.policy.onReset(() => {
      options.onStateChange?.('closed', options.dependency);
      this.stopProbing();
    });
  }

  /** Whether calls fail fast now (open, or half-open with its one trial call under way). */
  get isOpen(): boolean {
    return this.policy.state !== CircuitState.Closed;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    const s = this.policy.state;
    return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(() => work());
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** `err` as the caller should see it: the dependency's failures as ServiceUnavailableError, the rest unchanged. */
  translate(err: unknown): unknown {
    if (err instanceof ServiceUnavailableError) return err;
    if (err instanceof BrokenCircuitError)
      return new ServiceUnavailableError(this.options.dependency, this.options.retryAfterSeconds, 'circuit-open');
    if (this.options.isFailure(err)) {
      const timeout = /timeout|timed out/i.test(err instanceof Error ? err.message : '') || (err as { code?: string }).code === '57014';
      return new ServiceUnavailableError(this.options.dependency, this.options.retryAfterSeconds, timeout ? 'timeout' : 'unreachable', {
        cause: err,
      });
    }
    return err;
  }

  /** Stops the probe (the process is shutting down). */
  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private startProbing(): void {
    const probe = this.options.probe;
    if (!probe || this.probeTimer || this.closed) return;
    this.probeTimer = setInterval(
      () => {
        if (this.probing || this.policy.state === CircuitState.Closed) return;
        this.probing = true;
        this.policy
          .execute(() => probe())
          .catch(() => undefined)
          .finally(() => (this.probing = false));
      },
      Math.max(50, Math.floor(this.options.halfOpenAfterMs / 2)),
    );
    this.probeTimer.unref();
  }

  private stopProbing(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }
}
