import { OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One counter's hit: what `ThrottlerStorage.increment` takes. */
export interface ThrottleIncrement {
  key: string;
  ttl: number;
  limit: number;
  blockDuration: number;
  throttlerName: string;
}

/**
 * A store that counts two limits of one request at once (the client IP's, then the caller's): the second is not
 * counted when the first refuses (null), as with two `increment` calls in turn.
 */
export interface PairedThrottlerStorage extends ThrottlerStorage {
  incrementPair(first: ThrottleIncrement, second: ThrottleIncrement): Promise<[ThrottlerStorageRecord, ThrottlerStorageRecord | null]>;
}

export const isPairedStorage = (storage: ThrottlerStorage): storage is PairedThrottlerStorage =>
  typeof (storage as Partial<PairedThrottlerStorage>).incrementPair === 'function';

interface Counter {
  hits: number;
  /** End of the current window (epoch ms). */
  resetsAt: number;
  /** End of the block after the limit was passed (epoch ms); 0 when not blocked. */
  blockedUntil: number;
}

/** How often expired counters are dropped (the map stays bounded by the callers of one window). */
const SWEEP_EVERY_MS = 60_000;

/**
 * Rate-limit counters in process memory (no REDIS_URL): the same fixed window per key as RedisThrottlerStorage,
 * at a constant cost per request. The throttler's own in-memory store keeps one timestamp per hit and filters the
 * whole list on every request (its cost grows with the limit: at a limit of 1,200 per minute, 1,200 entries per
 * request, and past ~100,000 hits its `Math.min(...hits)` throws).
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly counters = new Map<string, Counter>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    const id = `${throttlerName}:${key}`;
    let c = this.counters.get(id);
    if (c && c.blockedUntil > now) {
      return Promise.resolve({ totalHits: c.hits, timeToExpire: seconds(Math.max(c.resetsAt - now, 0)), isBlocked: true, timeToBlockExpire: seconds(c.blockedUntil - now) });
    }
    if (!c || c.resetsAt <= now) {
      c = { hits: 0, resetsAt: now + ttl, blockedUntil: 0 };
      this.counters.set(id, c);
    }
    c.hits++;
    if (c.hits > limit) {
      const block = Math.max(blockDuration, 1);
      c.blockedUntil = now + block;
      return Promise.resolve({ totalHits: c.hits, timeToExpire: seconds(c.resetsAt - now), isBlocked: true, timeToBlockExpire: seconds(block) });
    }
    return Promise.resolve({ totalHits: c.hits, timeToExpire: seconds(c.resetsAt - now), isBlocked: false, timeToBlockExpire: 0 });
  }

  async incrementPair(first: ThrottleIncrement, second: ThrottleIncrement): Promise<[ThrottlerStorageRecord, ThrottlerStorageRecord | null]> {
    const a = await this.increment(first.key, first.ttl, first.limit, first.blockDuration, first.throttlerName);
    if (a.isBlocked) return [a, null];
    return [a, await this.increment(second.key, second.ttl, second.limit, second.blockDuration, second.throttlerName)];
  }

  /** Drops counters whose window and block are both over. */
  sweep(): void {
    const now = this.now();
    for (const [id, c] of this.counters) if (c.resetsAt <= now && c.blockedUntil <= now) this.counters.delete(id);
  }

  /** Counters held (for tests). */
  get size(): number {
    return this.counters.size;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
