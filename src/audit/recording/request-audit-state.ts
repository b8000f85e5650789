import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuditedOptions } from 'src/audit/recording/audited.decorator';
import { AuditEventContent, AuditOutcome, isUuid, normalizePatientIds, NO_ORGANIZATION } from 'src/audit/trail/audit-event';
import { sanitizeQuery } from 'src/audit/recording/query-sanitizer';
import type { AuthenticatedRequest } from 'src/auth/auth-context';

/** Where a request's audit state lives while it is handled. */
export const AUDIT_STATE = Symbol('audit-state');

export interface AuditState {
  /** Events appended for this request (by the interceptor, the hook or the route itself). */
  recorded: number;
  /** The trail refused an event: the answer is the 503, nothing more is attempted. */
  failed: boolean;
  /** TrailWriter.begin's release while the request runs (its first event, or its end, calls it). */
  release?: () => void;
  /** The success event a `recordsEarly` route started (RequestAuditRecorder.recordEarly): its patients, its write. */
  early?: { patientIds: ReadonlySet<string>; written: Promise<void> };
}

export type AuditableRequest = FastifyRequest & AuthenticatedRequest & { [AUDIT_STATE]?: AuditState };

export function auditState(request: AuditableRequest): AuditState {
  return (request[AUDIT_STATE] ??= { recorded: 0, failed: false });
}

const MAX_USER_AGENT = 512;
const MAX_ROUTE = 300;

function param(request: FastifyRequest, name: string): unknown {
  const params = request.params as Record<string, unknown> | undefined;
  return params?.[name];
}

/** The organization an event belongs to: the path's, else the caller's, else none. */
function organizationOf(request: AuditableRequest): string {
  const fromPath = param(request, 'organizationId');
  if (isUuid(fromPath)) return fromPath.toLowerCase();
  const fromAuth = request.auth?.organizationId;
  return isUuid(fromAuth) ? fromAuth.toLowerCase() : NO_ORGANIZATION;
}

/** The patient named by the route's path parameter, recorded with every outcome. */
export function pathPatientIds(request: FastifyRequest, options: AuditedOptions): string[] {
  return normalizePatientIds([param(request, options.patientIdParam ?? 'patientId')]);
}

/** What an event says about the request itself: who, from where, on which route. */
export function eventFor(
  request: AuditableRequest,
  now: Date,
  fields: { action: AuditAction; resource: string; patientIds: string[]; outcome: AuditOutcome; statusCode: number },
): AuditEventContent {
  const actor = request.auth?.actor;
  const userAgent = request.headers['user-agent'];
  return {
    organizationId: organizationOf(request),
    id: randomUUID(),
    occurredAt: now,
    actorType: actor && isUuid(actor.id) ? actor.type : null,
    actorId: actor && isUuid(actor.id) ? actor.id.toLowerCase() : null,
    actorRole: request.auth?.role ?? null,
    action: fields.action,
    resource: fields.resource.slice(0, 64),
    method: request.method,
    route: (request.routeOptions.url ?? request.url.split('?')[0]).slice(0, MAX_ROUTE),
    patientIds: normalizePatientIds(fields.patientIds),
    query: sanitizeQuery(request.query),
    outcome: fields.outcome,
    statusCode: fields.statusCode,
    requestId: typeof request.id === 'string' ? request.id.slice(0, 128) : null,
    ip: request.ip ? request.ip.slice(0, 64) : null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
  };
}

/** How a finished request is recorded: 401, 403 and 404 are denied attempts, other errors failures. */
export function outcomeFor(statusCode: number, declared: AuditAction): { action: AuditAction; outcome: AuditOutcome } {
  if (statusCode === 401 || statusCode === 403 || statusCode === 404) return { action: AuditAction.AccessDenied, outcome: 'denied' };
  if (statusCode >= 400) return { action: declared, outcome: 'failure' };
  return { action: declared, outcome: 'success' };
}

