import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { problem, ProblemCode, ProblemDetails } from 'src/common/problem/problem';
import { ProblemResponse } from 'src/common/problem/problem.response';

/** A documented problem answer of an operation: its status, when it happens, and an example body. */
export interface ProblemDoc {
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;
  description: string;
  example: ProblemDetails;
}

/** Documents problem answers: `application/problem+json` with the shared `Problem` schema and an example each. */
export function ApiProblems(...problems: ProblemDoc[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemResponse),
    ...problems.map((p) =>
      ApiResponse({
        status: p.status,
        description: p.description,
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemResponse) }, example: p.example } },
      }),
    ),
  );
}

/** The problems every authenticated route can answer. */
export const UNAUTHORIZED_PROBLEM: ProblemDoc = {
  status: 401,
  description: 'No bearer token, or it is malformed, expired or not validly signed.',
  example: problem(ProblemCode.Unauthorized, 401, 'A bearer token is required (Authorization: Bearer <token>)'),
};

export const TOO_MANY_REQUESTS_PROBLEM: ProblemDoc = {
  status: 429,
  description: 'Rate limit exceeded; the Retry-After header says when to try again.',
  example: problem(ProblemCode.TooManyRequests, 429, 'Rate limit of 600 requests per 60 s exceeded; retry after 12 s'),
};

/** The 400 of a route whose path, query or body is validated: each bad field is listed in `errors`. */
export const VALIDATION_PROBLEM: ProblemDoc = {
  status: 400,
  description: 'A path parameter, query parameter or body field is not valid; `errors` names each one.',
  example: problem(ProblemCode.ValidationFailed, 400, 'organizationId: must be a UUID', {
    errors: [{ in: 'path', field: 'organizationId', message: 'must be a UUID' }],
  }),
};

/** The 403 of a route that requires a permission in the organization of its path (its description names which). */
export const FORBIDDEN_PROBLEM: ProblemDoc = {
  status: 403,
  description: 'The caller is not a member of the organization (or it does not exist), or lacks the permission the operation requires.',
  example: problem(ProblemCode.PermissionDenied, 403, 'This action requires the permission patients:read', { permission: 'patients:read' }),
};

/** The 404 of a route about one patient. */
export const PATIENT_NOT_FOUND_PROBLEM: ProblemDoc = {
  status: 404,
  description: 'No patient with this id in the organization.',
  example: problem(ProblemCode.PatientNotFound, 404, 'No patient with this id in this organization'),
};

/**
 * The problems many operations share, by the name the document gives them under `components.responses`: each
 * operation refers to them rather than repeating them (a generated client's types stay small).
 */
export const SHARED_PROBLEMS: Readonly<Record<string, ProblemDoc>> = {
  ValidationFailed: VALIDATION_PROBLEM,
  Unauthorized: UNAUTHORIZED_PROBLEM,
  Forbidden: FORBIDDEN_PROBLEM,
  PatientNotFound: PATIENT_NOT_FOUND_PROBLEM,
  TooManyRequests: TOO_MANY_REQUESTS_PROBLEM,
};

/** The 404 of the bulk export routes: no export with this id in the organization (or it was deleted or expired). */
export const EXPORT_NOT_FOUND_PROBLEM: ProblemDoc = {
  status: 404,
  description: 'No export with this id in the organization, or it was deleted, or its files expired.',
  example: problem(ProblemCode.ExportNotFound, 404, 'No export with this id in this organization'),
};

/** The 404 of the audit archive download: no archive with this id in the organization. */
export const AUDIT_ARCHIVE_NOT_FOUND_PROBLEM: ProblemDoc = {
  status: 404,
  description: 'No audit archive with this id in the organization.',
  example: problem(ProblemCode.AuditArchiveNotFound, 404, 'No audit archive with this id in this organization'),
};

/**
 * The 503 of a route answered from an organization-wide snapshot (the opportunities, the engagement rollup) when the
 * organization has none yet and its first build did not end within the read's bound (docs/resilience.md, "Snapshots").
 */
export const NOT_READY_PROBLEM: ProblemDoc = {
  status: 503,
  description:
    "The organization's snapshot behind this answer is being built for the first time (a new organization, or a change of its time " +
    'zone) and was not ready within the read bound; the build goes on in the background. Retry after the seconds in Retry-After.',
  example: problem(
    ProblemCode.NotReady,
    503,
    "The organization's data for this answer is being prepared for the first time; retry after the time given in Retry-After",
  ),
};
