import { HttpStatus } from '@nestjs/common';

/** Problem type codes. Each becomes `type: <PROBLEM_BASE>/<code>` in the answer. */
export enum ProblemCode {
  BadRequest = 'bad-request',
  ValidationFailed = 'validation-failed',
  MalformedJson = 'malformed-json',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  OrganizationAccessDenied = 'organization-access-denied',
  PermissionDenied = 'permission-denied',
  NotFound = 'not-found',
  PatientNotFound = 'patient-not-found',
  ExportNotFound = 'export-not-found',
  AuditArchiveNotFound = 'audit-archive-not-found',
  ExportFailed = 'export-failed',
  MethodNotAllowed = 'method-not-allowed',
  Conflict = 'conflict',
  LegalHold = 'legal-hold',
  PayloadTooLarge = 'payload-too-large',
  UnsupportedMediaType = 'unsupported-media-type',
  TooManyRequests = 'too-many-requests',
  ServiceUnavailable = 'service-unavailable',
  /** An organization-wide snapshot the answer needs is being built for the first time: retry after Retry-After. */
  NotReady = 'not-ready',
  AuditUnavailable = 'audit-unavailable',
  Internal = 'internal-error',
}

export const PROBLEM_BASE = 'https://patient-journey.dev/problems';

/** One bad field of a request, as listed in a validation problem's `errors`. */
export interface FieldError {
  /** Where the value was: `query`, `path`, `body` or `header`. */
  in?: 'query' | 'path' | 'body' | 'header';
  /** The field's name (dotted path for nested body fields). */
  field: string;
  /** What was wrong and what is expected. */
  message: string;
}

/** RFC 9457 problem details. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<ProblemCode, string> = {
  [ProblemCode.BadRequest]: 'Bad request',
  [ProblemCode.ValidationFailed]: 'Invalid request',
  [ProblemCode.MalformedJson]: 'Malformed JSON',
  [ProblemCode.Unauthorized]: 'Authentication required',
  [ProblemCode.Forbidden]: 'Forbidden',
  [ProblemCode.OrganizationAccessDenied]: 'No access to this organization',
  [ProblemCode.PermissionDenied]: 'Missing permission',
  [ProblemCode.NotFound]: 'Not found',
  [ProblemCode.PatientNotFound]: 'Patient not found',
  [ProblemCode.ExportNotFound]: 'Export not found',
  [ProblemCode.AuditArchiveNotFound]: 'Audit archive not found',
  [ProblemCode.ExportFailed]: 'Export failed',
  [ProblemCode.MethodNotAllowed]: 'Method not allowed',
  [ProblemCode.Conflict]: 'Conflict',
  [ProblemCode.LegalHold]: 'Under legal hold',
  [ProblemCode.PayloadTooLarge]: 'Payload too large',
  [ProblemCode.UnsupportedMediaType]: 'Unsupported media type',
  [ProblemCode.TooManyRequests]: 'Too many requests',
  [ProblemCode.ServiceUnavailable]: 'Service unavailable',
  [ProblemCode.NotReady]: 'Not ready yet',
  [ProblemCode.AuditUnavailable]: 'Audit trail unavailable',
  [ProblemCode.Internal]: 'Internal server error',
};

/**
 * A named, expected failure. Thrown by services and guards; the one exception filter turns it into problem+json.
 * `detail` must never carry PHI: it is shown to callers and logged.
 */
export class ProblemException extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly status: HttpStatus,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
    this.name = 'ProblemException';
  }

  toProblem(instance?: string): ProblemDetails {
    return problem(this.code, this.status, this.detail, { instance, errors: this.errors, ...this.extensions });
  }

  static badRequest(detail: string, errors?: FieldError[]): ProblemException {
    return new ProblemException(errors ? ProblemCode.ValidationFailed : ProblemCode.BadRequest, HttpStatus.BAD_REQUEST, detail, errors);
  }

  static invalidField(where: FieldError['in'], field: string, message: string): ProblemException {
    return new ProblemException(ProblemCode.ValidationFailed, HttpStatus.BAD_REQUEST, `${field}: ${message}`, [{ in: where, field, message }]);
  }

  static notFound(code: ProblemCode, detail: string): ProblemException {
    return new ProblemException(code, HttpStatus.NOT_FOUND, detail);
  }

  static forbidden(code: ProblemCode, detail: string): ProblemException {
    return new ProblemException(code, HttpStatus.FORBIDDEN, detail);
  }

  static unauthorized(detail: string): ProblemException {
    return new ProblemException(ProblemCode.Unauthorized, HttpStatus.UNAUTHORIZED, detail, undefined, { 'www-authenticate': 'Bearer' });
  }

  static unavailable(code: ProblemCode, detail: string, retryAfterSeconds?: number): ProblemException {
    const headers = retryAfterSeconds === undefined ? undefined : { 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' };
    return new ProblemException(code, HttpStatus.SERVICE_UNAVAILABLE, detail, undefined, headers);
  }
}

export function problem(
  code: ProblemCode,
  status: number,
  detail: string,
  extra: { instance?: string; errors?: FieldError[]; [k: string]: unknown } = {},
): ProblemDetails {
  const body: ProblemDetails = { type: `${PROBLEM_BASE}/${code}`, title: TITLES[code], status, detail };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) body[k] = v;
  return body;
}

/** The problem code for a bare HTTP status (framework errors that carry no code of ours). */
export function codeForStatus(status: number): ProblemCode {
  switch (status) {
    case 400: return ProblemCode.BadRequest;
    case 401: return ProblemCode.Unauthorized;
    case 403: return ProblemCode.Forbidden;
    case 404: return ProblemCode.NotFound;
    case 405: return ProblemCode.MethodNotAllowed;
    case 409: return ProblemCode.Conflict;
    case 413: return ProblemCode.PayloadTooLarge;
    case 415: return ProblemCode.UnsupportedMediaType;
    case 429: return ProblemCode.TooManyRequests;
    case 503: return ProblemCode.ServiceUnavailable;
    default: return status >= 500 ? ProblemCode.Internal : ProblemCode.BadRequest;
  }
}
