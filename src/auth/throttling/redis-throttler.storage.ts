import { OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import { MemoryThrottlerStorage, ThrottleIncrement } from 'src/auth/throttling/memory-throttler.storage';
import type { RedisGuard } from 'src/common/resilience/redis-guard';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Fixed window per key: INCR, PEXPIRE on the first hit; over the limit, a block key lives for the block duration.
 * `hit(counter, block key, ttl, limit, block duration)` returns {hits, ttl ms, blocked 0/1, block ms}.
 */
const HIT = `
local function hit(counter, blocked, ttl_ms, limit, block_ms)
  local block_ttl = redis.call('PTTL', blocked)
  if block_ttl > 0 then
    return {tonumber(redis.call('GET', counter) or '0'), math.max(redis.call('PTTL', counter), 0), 1, block_ttl}
  end
  local hits = redis.call('INCR', counter)
  if hits == 1 then redis.call('PEXPIRE', counter, ttl_ms) end
  local ttl = redis.call('PTTL', counter)
  if ttl < 0 then redis.call('PEXPIRE', counter, ttl_ms); ttl = tonumber(ttl_ms) end
  if hits > tonumber(limit) then
    redis.call('SET', blocked, '1', 'PX', block_ms)
    return {hits, ttl, 1, tonumber(block_ms)}
  end
  return {hits, ttl, 0, 0}
end
`;

/** One counter: one round trip, atomic across instances. */
const INCREMENT = `${HIT}
return hit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`;

/**
 * Two counters in turn, in one round trip (the client IP's, then the caller's): the second is not counted when the
 * first is over its limit or blocked, exactly as two guards in sequence do when the first refuses.
 */
const INCREMENT_PAIR = `${HIT}
local first = hit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
if first[3] == 1 then return {first[1], first[2], first[3], first[4]} end
local second = hit(KEYS[3], KEYS[4], ARGV[4], ARGV[5], ARGV[6])
return {first[1], first[2], first[3], first[4], second[1], second[2], second[3], second[4]}
`;

type ThrottleCommand = (...args: (string | number)[]) => Promise<number[]>;
type ThrottleRedis = Redis & { throttleIncrement: ThrottleCommand; throttleIncrementPair: ThrottleCommand };

/**
 * Rate-limit counters in Redis (REDIS_URL), shared by every instance of the API. With a RedisGuard, each command is
 * bounded in time and, when Redis fails or is slow, the count falls back to this process's memory (the same fixed
 * window, per instance) until Redis answers again: a failing Redis never fails or stalls a request.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly redis: ThrottleRedis;
  private readonly fallback = new MemoryThrottlerStorage();

  constructor(
    url: string,
    private readonly prefix = 'pj:throttle:',
    private readonly guard?: RedisGuard,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }) as ThrottleRedis;
    // EVALSHA (the script's text sent again only after a NOSCRIPT), not EVAL with the script on every request.
    this.redis.defineCommand('throttleIncrement', { numberOfKeys: 2, lua: INCREMENT });
    this.redis.defineCommand('throttleIncrementPair', { numberOfKeys: 4, lua: INCREMENT_PAIR });
    this.redis.on('error', () => undefined); // reported through the guard's breaker, not as an unhandled event
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (!this.guard) return this.incrementInRedis(key, ttl, limit, blockDuration, throttlerName);
    try {
      return await this.guard.run(() => this.incrementInRedis(key, ttl, limit, blockDuration, throttlerName));
    } catch {
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  /**
   * `first`'s counter, then `second`'s unless `first` is blocked (null then), in one round trip: the same keys,
   * windows and blocks as two `increment` calls in turn. Falls back to this process's memory like `increment`.
   */
  async incrementPair(first: ThrottleIncrement, second: ThrottleIncrement): Promise<[ThrottlerStorageRecord, ThrottlerStorageRecord | null]> {
    if (!this.guard) return this.incrementPairInRedis(first, second);
    try {
      return await this.guard.run(() => this.incrementPairInRedis(first, second));
    } catch {
      return this.fallback.incrementPair(first, second);
    }
  }

  private async incrementInRedis(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}${throttlerName}:${key}`;
    const reply = await this.redis.throttleIncrement(base, `${base}:blocked`, ttl, limit, Math.max(blockDuration, 1));
    return record(reply, 0);
  }

  private async incrementPairInRedis(first: ThrottleIncrement, second: ThrottleIncrement): Promise<[ThrottlerStorageRecord, ThrottlerStorageRecord | null]> {
    const a = `${this.prefix}${first.throttlerName}:${first.key}`;
    const b = `${this.prefix}${second.throttlerName}:${second.key}`;
    const reply = await this.redis.throttleIncrementPair(
      a,
      `${a}:blocked`,
      b,
      `${b}:blocked`,
      first.ttl,
      first.limit,
      Math.max(first.blockDuration, 1),
      second.ttl,
      second.limit,
      Math.max(second.blockDuration, 1),
    );
    return [record(reply, 0), reply.length >= 8 ? record(reply, 4) : null];
  }

  async onApplicationShutdown(): Promise<void> {
    this.fallback.onApplicationShutdown();
    await this.redis.quit().catch(() => undefined);
  }
}

/** The four numbers of one counter in a script's reply, from `at`. */
function record(reply: number[], at: number): ThrottlerStorageRecord {
  const [totalHits, ttlMs, blocked, blockMs] = reply.slice(at, at + 4).map(Number);
  return {
    totalHits,
    timeToExpire: Math.ceil(ttlMs / 1000),
    isBlocked: blocked === 1,
    timeToBlockExpire: Math.ceil(blockMs / 1000),
  };
}
