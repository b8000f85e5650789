import { isServiceUnavailable } from 'src/common/resilience/service-unavailable';

/**
 * A tiny in-process cache with a lifetime in seconds, for the guard's identity and membership look-ups: short
 * (seconds), so that a revoked membership or API key stops working quickly. Wall-clock (monotonic) time, not the
 * business Clock: the lifetime is a technical matter.
 *
 * `staleIfErrorSeconds`: when a reload fails because the database is away (ServiceUnavailableError), the expired
 * value is used for up to that long past its lifetime (docs/resilience.md: no change can be written meanwhile
 * either); past that, the error goes through.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly staleMs: number;

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
    options: { staleIfErrorSeconds?: number } = {},
  ) {
    this.staleMs = (options.staleIfErrorSeconds ?? 0) * 1000;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlSeconds <= 0) return load();
    const hit = this.entries.get(key);
    const t = this.now();
    if (hit && hit.expires > t) return hit.value;
    let value: V;
    try {
      value = await load();
    } catch (err) {
      if (hit && this.staleMs > 0 && isServiceUnavailable(err) && hit.expires + this.staleMs > this.now()) return hit.value;
      throw err;
    }
    if (this.entries.size >= this.maxEntries) this.evictExpired(t);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { value, expires: t + this.ttlSeconds * 1000 });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private evictExpired(t: number): void {
    for (const [k, e] of this.entries) if (e.expires + this.staleMs <= t) this.entries.delete(k);
  }
}
