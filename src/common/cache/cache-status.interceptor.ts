import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Observable } from 'rxjs';
import { Freshness, staleHeaders, withFreshness } from 'src/common/cache/freshness';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/**
 * Runs each handler with a record of its answer's freshness, and marks an answer that holds a cached value served
 * past its lifetime (the database was away: AggregateCache's stale-if-error) with Age, Cache-Status and
 * Cache-Control (src/common/cache/freshness.ts).
 */
@Injectable()
export class CacheStatusInterceptor implements NestInterceptor {
  constructor(@Inject(SETTINGS) private readonly settings: Settings) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const freshness: Freshness = {};
    return new Observable((subscriber) =>
      withFreshness(freshness, () =>
        next.handle().subscribe({
          next: (value) => {
            if (freshness.staleAgeSeconds !== undefined)
              reply.headers(staleHeaders(freshness, this.settings.resilience.staleIfErrorSeconds));
            subscriber.next(value);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ),
    );
  }
}
