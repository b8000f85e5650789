import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { allowedMethods } from 'src/common/http/route-registry';
import { codeForStatus, problem, ProblemCode, ProblemDetails, ProblemException } from 'src/common/problem/problem';
import { ServiceUnavailableError } from 'src/common/resilience/service-unavailable';

/** The detail of a 503 for a dependency that is away: what to do, nothing about why. */
export const UNAVAILABLE_DETAIL = 'The service is temporarily unable to answer this request; retry after the number of seconds in Retry-After';

interface FrameworkError {
  statusCode?: number;
  status?: number;
  code?: string;
  name?: string;
}

const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the limit',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request says it carries JSON but its body is empty',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type; send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body',
};

/** An error as it may be logged: its class, code and stack frames, never its message (which may quote PHI). */
export function loggableError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; routine?: unknown };
  return {
    type: e.name,
    code: typeof e.code === 'string' ? e.code : undefined,
    routine: typeof e.routine === 'string' ? e.routine : undefined,
    stack: (e.stack ?? '').split('\n').slice(1, 12).map((l) => l.trim()),
  };
}

/** Turns anything thrown into an RFC 9457 problem (application/problem+json). */
export function toProblem(err: unknown, request: { method: string; url: string }): { body: ProblemDetails; headers: Record<string, string> } {
  const path = request.url.split('?')[0];
  if (err instanceof ProblemException) return { body: err.toProblem(path), headers: err.headers ?? {} };
  if (err instanceof ServiceUnavailableError) {
    // Names no internals: which dependency, and why, go to the log only.
    return {
      body: problem(ProblemCode.ServiceUnavailable, 503, UNAVAILABLE_DETAIL, { instance: path }),
      headers: { 'retry-after': String(err.retryAfterSeconds), 'cache-control': 'no-store' },
    };
  }

  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status === 404) {
      const allow = allowedMethods(path).filter((m) => m !== request.method);
      if (allow.length > 0) {
        return {
          body: problem(ProblemCode.MethodNotAllowed, 405, `${request.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`, { instance: path }),
          headers: { allow: allow.join(', ') },
        };
      }
      return { body: problem(ProblemCode.NotFound, 404, `No route matches ${request.method} ${path}`, { instance: path }), headers: {} };
    }
    if (status === 400 && /not valid JSON|in JSON at position|Unexpected end of JSON/i.test(err.message)) {
      return { body: problem(ProblemCode.MalformedJson, 400, 'The request body is not valid JSON', { instance: path }), headers: {} };
    }
    if (status === 429) {
      return { body: problem(ProblemCode.TooManyRequests, 429, 'Too many requests; retry after the time given in Retry-After', { instance: path }), headers: {} };
    }
    const response = err.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' && message ? message : err.message;
    return { body: problem(codeForStatus(status), status, status >= 500 ? 'The server failed to answer this request' : detail, { instance: path }), headers: {} };
  }

  const fe = (err ?? {}) as FrameworkError;
  const status = fe.statusCode ?? fe.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 400 && fe.code?.includes('JSON') ? ProblemCode.MalformedJson : codeForStatus(status);
    const detail = (fe.code && FASTIFY_DETAILS[fe.code]) ?? (err instanceof SyntaxError ? 'The request body is not valid JSON' : 'The request could not be processed');
    return { body: problem(code, status, detail, { instance: path }), headers: {} };
  }
  return { body: problem(ProblemCode.Internal, 500, 'The server failed to answer this request; it has been logged with the request id', { instance: path }), headers: {} };
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { body, headers } = toProblem(exception, request);
    if (exception instanceof ServiceUnavailableError) {
      // While a breaker is open every request would log this: the breaker's own open/close lines say it once.
      if (exception.reason !== 'circuit-open') this.logger.warn({ dependency: exception.dependency, reason: exception.reason, cause: loggableError(exception.cause), requestId: request.id }, 'dependency unavailable: answered 503');
    } else if (body.status >= 500) this.logger.error({ err: loggableError(exception), status: body.status, requestId: request.id }, 'request failed');
    sendProblem(reply, body, headers);
  }
}

export function sendProblem(reply: FastifyReply, body: ProblemDetails, headers: Record<string, string> = {}): void {
  if (reply.sent) return;
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply.status(body.status).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(body));
}
