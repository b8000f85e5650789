/**
 * A tiny in-process cache with a lifetime in seconds, for the guard's identity and membership look-ups: short
 * (seconds), so that a revoked membership or API key stops working quickly. Wall-clock (monotonic) time, not the
 * business Clock: the lifetime is a technical matter.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlSeconds <= 0) return load();
    const hit = this.entries.get(key);
    const t = this.now();
    if (hit && hit.expires > t) return hit.value;
    const value = await load();
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
    for (const [k, e] of this.entries) if (e.expires <= t) this.entries.delete(k);
  }
}
