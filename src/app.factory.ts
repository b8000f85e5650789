import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, AppOptions } from 'src/app.module';
import { finishDocument } from 'src/common/http/openapi-access';
import { OPENAPI_TAGS } from 'src/common/http/openapi-tags';
import { reuseJsonText } from 'src/common/http/reusable-json';
import { routeKey } from 'src/common/http/response-schemas';
import COMPILED_RESPONSE_SCHEMAS from 'src/common/http/compiled-response-schemas.json';
import { registerRoute } from 'src/common/http/route-registry';
import { securityHeaders } from 'src/common/http/security-headers';
import { AppLogger } from 'src/common/logging/app-logger';
import { createRootLogger, logRequest, requestIdFor } from 'src/common/logging/logging';
import { ShutdownState } from 'src/common/resilience/shutdown-state';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { sendProblem } from 'src/common/problem/problem.filter';
import { installRequestValidation } from 'src/common/validation/request-schemas';

const SHUTTING_DOWN_DETAIL = 'This instance is shutting down; retry after the number of seconds in Retry-After';

export const API_PREFIX = 'api/v1';

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Patient journey API')
    .setDescription(
      'Patient lists, risk and engagement scores, lifetime values, journeys and reengagement opportunities for clinics. ' +
        'Every error is RFC 9457 problem+json. Authenticate with a bearer token (in development: `npm run --silent token -- --org demo --role admin`). ' +
        'A typed TypeScript client is generated from this document: `@patient-journey/sdk` (sdk/ in the repository).',
    )
    .setVersion('1.0.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'This server')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer');
  for (const tag of OPENAPI_TAGS) builder.addTag(tag.name, tag.description);
  // Every operation names its operationId in @Endpoint; this factory only serves one that forgot, and its
  // `Class_method` form fails test/auth/route-declarations.e2e-spec.ts.
  return finishDocument(SwaggerModule.createDocument(app, builder.build(), { operationIdFactory: (controller, method) => `${controller}_${method}` }));
}

function fastifyTrustProxy(value: boolean | number | string): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}

export function setGlobalPrefix(app: NestFastifyApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'health/ready'] });
}

/**
 * The OpenAPI document without a database: Nest's preview mode scans the modules' metadata without instantiating
 * providers. Used to write and check the committed openapi.json.
 */
export async function createOpenApiDocument(options: AppOptions): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(options), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  setGlobalPrefix(app);
  const document = buildOpenApiDocument(app);
  await app.close();
  return document;
}

/** Builds the configured application (not listening): used by main.ts and by the e2e tests. */
export async function createApp(options: AppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.settings.bodyLimitBytes,
    genReqId: (req: IncomingMessage) => requestIdFor(req),
    requestIdHeader: false,
    trustProxy: fastifyTrustProxy(options.settings.trustProxy),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // The router's own refusals (a path parameter over 200 characters, a malformed URL) as problem+json too.
    frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is longer than 200 characters' : 'The URL is malformed';
      sendProblem(reply, problem(ProblemCode.BadRequest, status, detail, { instance: (request.url ?? '').split('?')[0].slice(0, 300) }));
    },
  });
  const fastify = adapter.getInstance();
  const logger = createRootLogger(options.settings);
  // No global reply serializer: it would take precedence over the routes' compiled response schemas (below).
  fastify.addHook('preSerialization', reuseJsonText);
  // Hot read routes' answers (profile, journey, opportunities, risk summary) are serialized by fast-json-stringify from their OpenAPI response schema
  // (src/common/http/response-schemas.ts), given to each route as its Fastify `schema.response` when Nest registers it.
  const compiled = COMPILED_RESPONSE_SCHEMAS as Record<string, Record<string, unknown> | undefined>;
  // The hot read routes' path and query: Fastify's route validation (Ajv) instead of class-validator on every request,
  // class-validator still answering whatever the schema refuses (src/common/validation/request-schemas.ts).
  installRequestValidation(fastify);
  fastify.addHook('onRoute', (route) => {
    registerRoute(route.method, route.url);
    const schema = typeof route.method === 'string' ? compiled[routeKey(route.method, route.url)] : undefined;
    if (schema) route.schema = { ...route.schema, response: { 200: schema } };
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    logRequest(logger, { id: request.id, method: request.method, url: request.url, statusCode: reply.statusCode, elapsedMs: reply.elapsedTime });
    done();
  });
  const headers = securityHeaders();
  const apiPath = `/${API_PREFIX}/`;
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    // Every API answer is one caller's authorized data, most of it PHI: no browser or intermediary may keep a copy
    // (docs/security.md, "Decrypted values in memory"). An answer that says otherwise sets its own (a stale aggregate's stale-if-error).
    if (request.url.startsWith(apiPath)) reply.header('cache-control', 'no-store');
    done();
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(options), adapter, { bufferLogs: true, abortOnError: false });
  // The graceful shutdown (main.ts, docs/resilience.md): requests in flight are counted from arrival to the end of
  // the response. While draining, a new request (but the health checks) gets a 503 problem with Retry-After and
  // `Connection: close` at once, so that its client goes to another instance: the listener stays open until the
  // requests in flight are done, because closing it resets the connections the kernel has accepted meanwhile.
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (shutdown.draining) {
      reply.header('connection', 'close');
      if (!request.url.startsWith('/health')) {
        sendProblem(reply, problem(ProblemCode.ServiceUnavailable, 503, SHUTTING_DOWN_DETAIL, { instance: request.url.split('?')[0] }), {
          'retry-after': String(options.settings.resilience.retryAfterSeconds),
        });
        return;
      }
    }
    shutdown.requestStarted();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      shutdown.requestEnded();
    };
    reply.raw.once('finish', end);
    reply.raw.once('close', end);
    done();
  });
  app.useLogger(new AppLogger(logger));
  setGlobalPrefix(app);

  if (options.settings.corsOrigins.length > 0) {
    app.enableCors({
      origin: options.settings.corsOrigins.includes('*') ? true : options.settings.corsOrigins,
      // Age and Cache-Status: a browser front end can tell a stale answer (docs/resilience.md).
      exposedHeaders: ['x-request-id', 'retry-after', 'age', 'cache-status'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
      maxAge: 600,
    });
  }

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: true },
    customSiteTitle: 'Patient journey API',
  });

  await app.init();
  await fastify.ready();
  return app;
}
