import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';

/** Route-config key of the Bundle route: its body limit is FHIR_BUNDLE_LIMIT_BYTES. */
export const FHIR_BUNDLE_ROUTE = 'fhirBundle';

/**
 * FHIR's media types on Fastify: `application/fhir+json` parsed as JSON (within the route's body limit),
 * `application/fhir+ndjson` / `application/x-ndjson` handed over as the raw stream (the import streams it into the
 * file store, never held whole, counting it against FHIR_IMPORT_LIMIT_BYTES), and `multipart/form-data` through
 * @fastify/multipart (registered by Nest's adapter; its parts are streamed the same way: fhir-upload.ts). The Bundle
 * route's body limit is set from the settings.
 */
@Injectable()
export class FhirHttp {
  constructor(adapterHost: HttpAdapterHost, @Inject(SETTINGS) settings: Settings) {
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    // Nest's Fastify adapter owns the plugin's registration (once, at the root, whoever else asks for it).
    if (adapterHost.httpAdapter instanceof FastifyAdapter) adapterHost.httpAdapter.useMultipart();
    fastify.addHook('onRoute', (route: RouteOptions) => {
      if ((route.config as Record<string, unknown> | undefined)?.[FHIR_BUNDLE_ROUTE] === true)
        route.bodyLimit = settings.fhirBundleLimitBytes;
    });
    if (!fastify.hasContentTypeParser('application/fhir+json')) {
      const json = fastify.getDefaultJsonParser('error', 'error');
      fastify.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, json);
    }
    for (const type of ['application/fhir+ndjson', 'application/x-ndjson', 'application/ndjson']) {
      if (!fastify.hasContentTypeParser(type))
        fastify.addContentTypeParser(type, (_req: FastifyRequest, payload: unknown, done: (err: null, body: unknown) => void) =>
          done(null, payload),
        );
    }
  }
}
