import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Observable } from 'rxjs';
import { Freshness, snapshotStaleHeaders, staleHeaders, withFreshness } from 'src/common/cache/freshness';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/**
 * Runs each handler with a record of its answer's freshness, and marks an answer that holds a cached value served
 * past its lifetime (the database was away: AggregateCache's stale-if-error) with Age, Cache-Status and
 * Cache-Control, and an answer read from an organization-wide snapshot past its lifetime with Age and Cache-Status
 * (src/common/cache/freshness.ts).
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
            // A stale-if-error answer (the database away) says so over a stale snapshot's marks.
            if (freshness.staleAgeSeconds !== undefined)
              reply.headers(staleHeaders(freshness, this.settings.resilience.staleIfErrorSeconds));
            else if (freshness.snapshot) reply.headers(snapshotStaleHeaders(freshness.snapshot));
            subscriber.next(value);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ),
    );
  }
}
