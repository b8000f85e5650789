import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AUDITED, AuditedOptions } from 'src/audit/recording/audited.decorator';
import { AUDIT_UNAVAILABLE_DETAIL } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { AuditableRequest } from 'src/audit/recording/request-audit-state';
import { problem, ProblemCode } from 'src/common/problem/problem';

/**
 * Records what the interceptor never sees: calls of `@Audited` routes that a guard refused (401, 403), that failed
 * in validation or in the handler (404 on a patient, 400, 500), or that something before the interceptor answered.
 * A Fastify onSend hook, so it runs for every response of those routes, before the body is sent; when the event
 * cannot be written the answer becomes the 503 audit-unavailable problem.
 */
@Injectable()
export class AuditOnDenialHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly recorder: RequestAuditRecorder,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;
    // A callback hook, not an async one: most responses need nothing here (a route without audit options, or an event
    // the interceptor already recorded), and an async hook costs each of them a promise and a microtask turn.
    fastify.addHook('onSend', (request: AuditableRequest, reply: FastifyReply, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => {
      const options = (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[AUDITED] as AuditedOptions | undefined;
      if (!options || !this.recorder.finishedNeedsEvent(request, reply.statusCode)) return done(null, payload);
      this.recorder.recordFinished(request, reply.statusCode, options, payload).then(
        (recorded) => {
          if (recorded || reply.statusCode === 503) return done(null, payload);
          reply.code(503).header('content-type', 'application/problem+json; charset=utf-8').header('retry-after', '5');
          done(null, JSON.stringify(problem(ProblemCode.AuditUnavailable, 503, AUDIT_UNAVAILABLE_DETAIL, { instance: request.url.split('?')[0] })));
        },
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }
}
