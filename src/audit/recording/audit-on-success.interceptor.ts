import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import type { FastifyReply } from 'fastify';
import { finalize, from, mergeMap, Observable } from 'rxjs';
import { auditedOptionsOf } from 'src/audit/recording/audited.decorator';
import { RequestAuditRecorder } from 'src/audit/recording/request-audit-recorder';
import { AuditableRequest } from 'src/audit/recording/request-audit-state';

/** Where the interceptor leaves a `writesOwnAudit` route's RequestAudit for `@RequestAuditor()`. */
export const REQUEST_AUDIT = Symbol('request-audit');

/** Where the interceptor leaves a `recordsEarly` route's early record for `@EarlyAudit()`. */
export const EARLY_AUDIT = Symbol('early-audit');

/** What `@EarlyAudit()` hands a `recordsEarly` route: name the answer's patients as soon as they are known. */
export type EarlyAuditRecord = (patientIds: readonly string[]) => void;

/**
 * The interceptor that records every successful call of an audited route before its response leaves. Applied to
 * the audited routes only (`@Authorized(permission, { audit })` puts it first among the route's own interceptors:
 * `interceptAuditedRoute`), so that a route without audit options pays no interceptor (Nest wraps a handler in rxjs
 * for any interceptor, global ones on every route). It wraps everything after it, cache interceptors included
 * (register those on the route, above or below `@Authorized`; never on a controller or globally, which would run
 * before it: `auditInterceptionProblems` refuses that at start-up), so a cached answer is recorded like a fresh one.
 * If the event cannot be written the request fails with 503 audit-unavailable instead of sending the data.
 */
@Injectable()
export class AuditOnSuccessInterceptor implements NestInterceptor {
  constructor(private readonly recorder: RequestAuditRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const options = auditedOptionsOf(context.getHandler());
    if (!options) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<AuditableRequest & { [REQUEST_AUDIT]?: unknown; [EARLY_AUDIT]?: EarlyAuditRecord }>();
    const reply = http.getResponse<FastifyReply>();
    if (options.writesOwnAudit) request[REQUEST_AUDIT] = this.recorder.forRequest(request, reply, options);
    if (options.recordsEarly) request[EARLY_AUDIT] = (patientIds) => this.recorder.recordEarly(request, reply, options, patientIds);
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

/**
 * The decorator that puts AuditOnSuccessInterceptor first among a route handler's interceptors (whatever order the
 * handler's `@UseInterceptors` are written in: Nest runs a handler's interceptors in its metadata's order).
 */
export function interceptAuditedRoute(): MethodDecorator {
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const existing = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [AuditOnSuccessInterceptor, ...existing.filter((i) => i !== AuditOnSuccessInterceptor)], handler);
    return descriptor;
  };
}

/**
 * What would let an audited route's answer leave unrecorded: an interceptor that runs before the audit's (a global
 * one, or one on the route's controller: both run before a route's own), or an audited route without it. Empty when
 * every audited route of `controllers` is recorded as before (AuditModule refuses to start otherwise).
 */
export function auditInterceptionProblems(controllers: Function[], globalInterceptors: number): string[] {
  const problems: string[] = [];
  for (const controller of controllers) {
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = name === 'constructor' ? undefined : Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (typeof handler !== 'function' || !auditedOptionsOf(handler)) continue;
      const route = `${controller.name}.${name}`;
      const own = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
      if (own[0] !== AuditOnSuccessInterceptor) problems.push(`${route}: AuditOnSuccessInterceptor is not its first interceptor`);
      const onClass = (Reflect.getMetadata(INTERCEPTORS_METADATA, controller) as unknown[] | undefined) ?? [];
      if (onClass.length > 0) problems.push(`${route}: its controller's interceptors run before the audit's`);
      if (globalInterceptors > 0) problems.push(`${route}: ${globalInterceptors} global interceptor(s) run before the audit's`);
    }
  }
  return problems;
}
