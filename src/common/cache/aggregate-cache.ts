import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { Freshness, markServedStale } from 'src/common/cache/freshness';
import { InProcessLru } from 'src/common/cache/in-process-lru';
import { RedisGuard } from 'src/common/resilience/redis-guard';
import { isServiceUnavailable } from 'src/common/resilience/service-unavailable';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';

/** A cached value with the time it was loaded (for Age when it is served stale). */
interface Stored<T> {
  v: T;
  at: number;
}

/** Most values this process keeps as last known good answers (stale-if-error). */
const LAST_GOOD_ENTRIES = 5_000;

/**
 * Read-through cache for per-organization aggregates (never PHI: these entries may live in Redis).
 *
 * - `getOrLoad` answers from the cache, or runs `load` once per key and process however many requests miss at the
 *   same time (single flight), then stores the result (`writeBehind`: without the caller waiting for the write; the
 *   load stays shared until the write lands).
 * - A cache that fails (Redis down or slow) is bypassed, not fatal, and bounded in time: every command goes through
 *   the RedisGuard (REDIS_TIMEOUT_MS, then its breaker bypasses Redis without waiting); the value is loaded from the
 *   database. The database is the source of truth, the cache only saves work.
 * - Stale if error (RFC 5861): this process keeps the last answer loaded or read for each key (in memory, up to
 *   LAST_GOOD_ENTRIES); when `load` fails because the database is away (ServiceUnavailableError), that answer is
 *   served for up to STALE_IF_ERROR_SECONDS past its lifetime, and the freshness record its caller passes is marked
 *   stale (Age, Cache-Status: src/common/cache/freshness.ts). Past that, or without one, the 503 goes through.
 */
@Injectable()
export class AggregateCache implements OnModuleDestroy {
  private readonly log = new Logger(AggregateCache.name);
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Bumped by `delete`: a load that started before an invalidation does not store its (possibly stale) result. */
  private readonly epochs = new Map<string, number>();
  private readonly lastGood: InProcessLru<Stored<unknown>>;
  private readonly ttlMs: number;
  private readonly staleIfErrorMs: number;
  private lastWarning = 0;

  /** The guard of the Redis store's commands; none for the in-process store (no REDIS_URL), which neither stalls nor fails. */
  private readonly redis?: RedisGuard;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Optional() redis?: RedisGuard,
    @Optional() @Inject(SETTINGS) settings?: Settings,
  ) {
    // Without REDIS_URL the store is cache-manager's in-process one: a timer and a breaker per read would guard nothing.
    this.redis = settings === undefined || settings.redisUrl ? redis : undefined;
    this.ttlMs = (settings?.cacheTtlSeconds ?? 300) * 1000;
    this.staleIfErrorMs = (settings?.resilience.staleIfErrorSeconds ?? 0) * 1000;
    this.lastGood = new InProcessLru(this.staleIfErrorMs > 0 ? LAST_GOOD_ENTRIES : 0, this.ttlMs + this.staleIfErrorMs);
  }

  /**
   * The cached value of `key`, or `load`'s. `staleKey`: the key its last good answer is kept under, when `key`
   * carries a generation that changes on every invalidation (a stale answer must survive them). `freshness`: the
   * request's record (`@RequestFreshness()`), marked when its last good answer is served stale.
   */
  async getOrLoad<T>(
    key: string,
    load: () => Promise<T>,
    ttlMs?: number,
    options: { staleKey?: string; freshness?: Freshness; writeBehind?: boolean } = {},
  ): Promise<T> {
    const epoch = this.epochs.get(key) ?? 0;
    const staleKey = options.staleKey ?? key;
    const cached = await this.safe(() => this.cache.get<Stored<T> | T>(key));
    if (cached !== undefined && cached !== null) {
      const stored = asStored(cached);
      this.remember(staleKey, stored);
      return stored.v;
    }
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return this.staleOnError(staleKey, pending, ttlMs, options.freshness);
    // The body reads its own promise (a microtask later, once it is in `inFlight`).
    const flight: { loading?: Promise<T> } = {};
    const loading = (flight.loading = (async (): Promise<T> => {
      let settleNow = true;
      try {
        // A microtask later: `loading` is in `inFlight` before anything here can settle it.
        const value = await Promise.resolve().then(load);
        const stored: Stored<T> = { v: value, at: Date.now() };
        this.remember(staleKey, stored);
        if ((this.epochs.get(key) ?? 0) === epoch) {
          const write = this.safe(() => this.cache.set(key, stored, ttlMs));
          if (options.writeBehind) {
            // The caller has its value now; the requests that miss meanwhile still share this load (single flight)
            // until the write lands. `safe` logs a failed write and never throws.
            settleNow = false;
            void write.finally(() => this.settled(key, flight.loading));
          } else await write;
        }
        return value;
      } finally {
        if (settleNow) this.settled(key, flight.loading);
      }
    })());
    this.inFlight.set(key, loading);
    return this.staleOnError(staleKey, loading, ttlMs, options.freshness);
  }

  async delete(key: string): Promise<void> {
    this.inFlight.delete(key);
    this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
    await this.safe(() => this.cache.del(key));
  }

  async onModuleDestroy(): Promise<void> {
    await this.safe(() => this.cache.disconnect());
    this.redis?.close();
  }

  /** `loading` is over for `key`: the next miss loads again (unless an invalidation already replaced it). */
  private settled(key: string, loading: Promise<unknown> | undefined): void {
    if (this.inFlight.get(key) === loading) this.inFlight.delete(key);
  }

  private remember(staleKey: string, stored: Stored<unknown>): void {
    if (!this.lastGood.enabled) return;
    const known = this.lastGood.get(staleKey);
    if (!known || known.at <= stored.at) this.lastGood.set(staleKey, stored);
  }

  /** `loading`'s value; when it fails because the database is away, the last good answer within the stale window. */
  private async staleOnError<T>(staleKey: string, loading: Promise<T>, ttlMs: number | undefined, freshness: Freshness | undefined): Promise<T> {
    try {
      return await loading;
    } catch (err) {
      if (!isServiceUnavailable(err)) throw err;
      const last = this.lastGood.get(staleKey) as Stored<T> | undefined;
      const now = Date.now();
      const lifetime = ttlMs ?? this.ttlMs;
      if (!last || now - last.at > lifetime + this.staleIfErrorMs) throw err;
      markServedStale(freshness, (now - last.at) / 1000, Math.max(0, now - last.at - lifetime) / 1000);
      return last.v;
    }
  }

  private async safe<T>(op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await (this.redis ? this.redis.run(op) : op());
    } catch (err) {
      // While the breaker is open every call lands here: one line per 10 s is enough (the breaker logs its state).
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.log.warn(`cache unavailable, answering from the database: ${err instanceof Error ? err.message : String(err)}`);
      }
      return undefined;
    }
  }
}

/** A value stored by this version ({v, at}) or by an older one (the bare value, loaded at an unknown time: now). */
function asStored<T>(cached: Stored<T> | T): Stored<T> {
  if (typeof cached === 'object' && cached !== null && 'v' in cached && 'at' in cached && typeof (cached as Stored<T>).at === 'number')
    return cached as Stored<T>;
  return { v: cached as T, at: Date.now() };
}
