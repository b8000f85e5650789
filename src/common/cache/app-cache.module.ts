import { CacheModule } from '@nestjs/cache-manager';
import { Global, Logger, Module } from '@nestjs/common';
import { createKeyv } from '@keyv/redis';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
import { RedisGuard } from 'src/common/resilience/redis-guard';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/**
 * The application cache (`CACHE_MANAGER` from @nestjs/cache-manager): in process memory by default; a Redis store
 * (Keyv) when `REDIS_URL` is set, so that several instances share entries and invalidations. TTL:
 * `CACHE_TTL_SECONDS`. Only aggregates go through it (counts, risk summary: no PHI); see `AggregateCache`.
 */
@Global()
@Module({
  imports: [
    CacheModule.registerAsync({
      isGlobal: true,
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({
        ttl: settings.cacheTtlSeconds * 1000,
        ...(settings.redisUrl ? { stores: [createKeyv(settings.redisUrl, { namespace: 'patient-journey' })] } : {}),
      }),
    }),
  ],
  providers: [
    AggregateCache,
    {
      // Bounds every Redis command of the app's own code (the cache, the rate-limit counters): docs/resilience.md.
      provide: RedisGuard,
      inject: [SETTINGS],
      useFactory: (settings: Settings) => {
        const logger = new Logger('Redis');
        return new RedisGuard({
          timeoutMs: settings.resilience.redisTimeoutMs,
          failures: settings.resilience.redisBreakerFailures,
          halfOpenAfterMs: settings.resilience.redisBreakerHalfOpenMs,
          onStateChange: (state) =>
            state === 'open'
              ? logger.warn('Redis circuit breaker OPEN: Redis is bypassed (cache from the database, rate limits in process memory)')
              : state === 'closed' && logger.log('Redis circuit breaker closed: Redis is used again'),
        });
      },
    },
  ],
  exports: [AggregateCache, RedisGuard],
})
export class AppCacheModule {}
