import { OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import { MemoryThrottlerStorage } from 'src/auth/throttling/memory-throttler.storage';
import type { RedisGuard } from 'src/common/resilience/redis-guard';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Fixed window per key: INCR, PEXPIRE on the first hit; over the limit, a block key lives for the block duration.
 * One round trip, atomic across instances.
 */
const INCREMENT = `
local block_ttl = redis.call('PTTL', KEYS[2])
if block_ttl > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(redis.call('PTTL', KEYS[1]), 0), 1, block_ttl}
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`;

/**
 * Rate-limit counters in Redis (REDIS_URL), shared by every instance of the API. With a RedisGuard, each command is
 * bounded in time and, when Redis fails or is slow, the count falls back to this process's memory (the same fixed
 * window, per instance) until Redis answers again: a failing Redis never fails or stalls a request.
 */
export class RedisThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly fallback = new MemoryThrottlerStorage();

  constructor(
    url: string,
    private readonly prefix = 'pj:throttle:',
    private readonly guard?: RedisGuard,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
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

  private async incrementInRedis(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}${throttlerName}:${key}`;
    const reply = (await this.redis.eval(INCREMENT, 2, base, `${base}:blocked`, ttl, limit, Math.max(blockDuration, 1))) as number[];
    const [totalHits, ttlMs, blocked, blockMs] = reply.map(Number);
    return {
      totalHits,
      timeToExpire: Math.ceil(ttlMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockMs / 1000),
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.fallback.onApplicationShutdown();
    await this.redis.quit().catch(() => undefined);
  }
}
