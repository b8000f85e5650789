import { createParamDecorator, ExecutionContext, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Freshness, freshnessHeaders } from 'src/common/cache/freshness';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/** Where a request keeps the record of its answer's freshness (made by the first `@RequestFreshness()` that asks). */
const FRESHNESS = Symbol('freshness');

type WithFreshness = FastifyRequest & { [FRESHNESS]?: Freshness };

/** The request's freshness record, made on first use. */
export function freshnessOf(request: object): Freshness {
  const r = request as WithFreshness;
  return (r[FRESHNESS] ??= {});
}

/**
 * The request's freshness record, for a handler whose answer may hold a cached value served past its lifetime
 * (AggregateCache's stale-if-error) or come from an organization-wide snapshot past its lifetime (SnapshotRebuilds):
 * it passes the record down to them, and CacheStatusHook turns what they noted into headers.
 */
export const RequestFreshness = createParamDecorator((_data: unknown, ctx: ExecutionContext): Freshness => freshnessOf(ctx.switchToHttp().getRequest<object>()));

/**
 * Marks an answer that holds a cached value served past its lifetime (the database was away: AggregateCache's
 * stale-if-error) with Age, Cache-Status and Cache-Control, and an answer read from an organization-wide snapshot past
 * its lifetime with Age and Cache-Status (src/common/cache/freshness.ts). Only answers (status below 400): a request
 * that failed after a stale value was read says nothing about it, as with the interceptor this replaces.
 *
 * A Fastify onSend hook, synchronous: a response whose handler never asked for the record (every route but the list,
 * the risk summary, the engagement overview and the opportunities) costs one property read. It replaces a global Nest
 * interceptor, which put every request of every route through one more layer of rxjs (docs/performance.md).
 */
@Injectable()
export class CacheStatusHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;
    const staleIfErrorSeconds = this.settings.resilience.staleIfErrorSeconds;
    fastify.addHook('onSend', (request: WithFreshness, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
      const f = request[FRESHNESS];
      if (f && reply.statusCode < 400) {
        const headers = freshnessHeaders(f, staleIfErrorSeconds);
        if (headers) reply.headers(headers);
      }
      done(null, payload);
    });
  }
}
