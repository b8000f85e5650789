import { CacheModule } from '@nestjs/cache-manager';
import { Global, Module } from '@nestjs/common';
import { createKeyv } from '@keyv/redis';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
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
  providers: [AggregateCache],
  exports: [AggregateCache],
})
export class AppCacheModule {}
