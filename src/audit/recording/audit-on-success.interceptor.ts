import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { finalize, from, mergeMap, Observable } from 'rxjs';
import { auditedOptionsOf } from 'src/audit/recording/audited.decorator';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { AuditableRequest } from 'src/audit/recording/request-audit-state';

/** Where the interceptor leaves a `writesOwnAudit` route's RequestAudit for `@RequestAuditor()`. */
export const REQUEST_AUDIT = Symbol('request-audit');

/**
 * The one global interceptor that records every successful call of an `@Audited` route before its response
 * leaves. It wraps everything after it, cache interceptors included (register those on controllers or as later
 * global interceptors), so a cached answer is recorded like a fresh one. If the event cannot be written the
 * request fails with 503 audit-unavailable instead of sending the data.
 */
@Injectable()
export class AuditOnSuccessInterceptor implements NestInterceptor {
  constructor(private readonly recorder: RequestAuditRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = auditedOptionsOf(context.getHandler());
    if (!options) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<AuditableRequest & { [REQUEST_AUDIT]?: unknown }>();
    const reply = http.getResponse<FastifyReply>();
    if (options.writesOwnAudit) request[REQUEST_AUDIT] = this.recorder.forRequest(request, reply, options);
    // While this request runs, its organization's audit batches may wait a moment for its event (one commit for
    // several requests); `finalize` releases it however the request ends.
    const release = this.recorder.begin(request);
    return next.handle().pipe(
      mergeMap((body: unknown) =>
        from(
          this.recorder.recordSuccess(request, reply, options, body).then(() => body),
        ),
      ),
      finalize(release),
    );
  }
}
