import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';

/** The ingestion route's own body limit: 5,000 records do not fit in the global 1 MB. */
export const INGEST_BODY_LIMIT_BYTES = 10 * 1_048_576;

/** Fastify route-config key a handler sets (`@RouteConfig({ [ROUTE_BODY_LIMIT]: bytes })`) to raise its body limit. */
export const ROUTE_BODY_LIMIT = 'bodyLimit';

/**
 * Nest passes a handler's `@RouteConfig()` to Fastify as `config` but has no way to set a route's `bodyLimit`.
 * This hook, added while the app is created (before routes are registered), copies `config.bodyLimit` to the
 * route's option; the limit is never lowered below the global BODY_LIMIT_BYTES.
 */
@Injectable()
export class IngestionBodyLimit {
  constructor(adapterHost: HttpAdapterHost, @Inject(SETTINGS) settings: Settings) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onRoute', (route: RouteOptions) => {
      const limit = (route.config as Record<string, unknown> | undefined)?.[ROUTE_BODY_LIMIT];
      if (typeof limit === 'number') route.bodyLimit = Math.max(limit, settings.bodyLimitBytes);
    });
  }
}
