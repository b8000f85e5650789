import { Module } from '@nestjs/common';
import { ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import { MemoryThrottlerStorage } from 'src/auth/throttling/memory-throttler.storage';
import { RedisThrottlerStorage } from 'src/auth/throttling/redis-throttler.storage';
import { CALLER_THROTTLER, IP_THROTTLER } from 'src/auth/throttling/rate-limit.guard';
import { RedisGuard } from 'src/common/resilience/redis-guard';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/** The Redis counter store when REDIS_URL is set (shared by all instances), else the same fixed window in memory. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

@Module({
  providers: [
    {
      provide: RATE_LIMIT_STORAGE,
      inject: [SETTINGS, RedisGuard],
      useFactory: (settings: Settings, guard: RedisGuard): ThrottlerStorage =>
        settings.redisUrl ? new RedisThrottlerStorage(settings.redisUrl, undefined, guard) : new MemoryThrottlerStorage(),
    },
  ],
  exports: [RATE_LIMIT_STORAGE],
})
class RateLimitStorageModule {}

/** Limits from the settings: RATE_LIMIT_IP_LIMIT per client IP and RATE_LIMIT_LIMIT per caller, per RATE_LIMIT_TTL_SECONDS. */
export const RateLimitModule = ThrottlerModule.forRootAsync({
  imports: [RateLimitStorageModule],
  inject: [SETTINGS, RATE_LIMIT_STORAGE],
  useFactory: (settings: Settings, storage: ThrottlerStorage) => ({
    throttlers: [
      { name: IP_THROTTLER, ttl: settings.rateLimit.ttlSeconds * 1000, limit: settings.rateLimit.ipLimit },
      { name: CALLER_THROTTLER, ttl: settings.rateLimit.ttlSeconds * 1000, limit: settings.rateLimit.limit },
    ],
    storage,
    setHeaders: false,
  }),
});
