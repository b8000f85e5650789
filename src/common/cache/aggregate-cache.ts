import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Cache } from 'cache-manager';

/**
 * Read-through cache for per-organization aggregates (never PHI: these entries may live in Redis).
 *
 * - `getOrLoad` answers from the cache, or runs `load` once per key and process however many requests miss at the
 *   same time (single flight), then stores the result.
 * - A cache that fails (Redis down) is bypassed, not fatal: the value is loaded from the database and a warning
 *   logged; the database is the source of truth, the cache only saves work.
 */
@Injectable()
export class AggregateCache implements OnModuleDestroy {
  private readonly log = new Logger(AggregateCache.name);
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Bumped by `delete`: a load that started before an invalidation does not store its (possibly stale) result. */
  private readonly epochs = new Map<string, number>();

  constructor(@Inject(CACHE_MANAGER) private readonly cache: Cache) {}

  async getOrLoad<T>(key: string, load: () => Promise<T>, ttlMs?: number): Promise<T> {
    const epoch = this.epochs.get(key) ?? 0;
    const cached = await this.safe(() => this.cache.get<T>(key));
    if (cached !== undefined && cached !== null) return cached;
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const loading = (async (): Promise<T> => {
      try {
        const value = await load();
        if ((this.epochs.get(key) ?? 0) === epoch) await this.safe(() => this.cache.set(key, value, ttlMs));
        return value;
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, loading);
    return loading;
  }

  async delete(key: string): Promise<void> {
    this.inFlight.delete(key);
    this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    await this.safe(() => this.cache.del(key));
  }

  async onModuleDestroy(): Promise<void> {
    await this.safe(() => this.cache.disconnect());
  }

  private async safe<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await op();
    } catch (err) {
      this.log.warn(`cache unavailable, answering from the database: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}
