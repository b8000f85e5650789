import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiParam } from '@nestjs/swagger';
import { interceptAuditedRoute } from 'src/audit/recording/audit-on-success.interceptor';
import { AuditedOptions, auditRoute } from 'src/audit/recording/audited.decorator';
import { AuthContext, AuthenticatedRequest } from 'src/auth/auth-context';
import { Permission } from 'src/auth/permissions';
import { ApiProblems, FORBIDDEN_PROBLEM, TOO_MANY_REQUESTS_PROBLEM, UNAUTHORIZED_PROBLEM, VALIDATION_PROBLEM } from 'src/common/problem/problem-docs';

/** Metadata key: the permission a route requires. */
export const REQUIRED_PERMISSION = 'patient-journey:permission';
/** Metadata key: the route needs an authenticated caller but no organization. */
export const AUTHENTICATED_ONLY = 'patient-journey:authenticated';

// Declared here rather than left to each handler's @Param() DTO: Swagger UI's "Try it out" needs the field, and the
// description should not depend on the Swagger CLI plugin having read the DTO's comments.
const organizationIdParam = ApiParam({
  name: 'organizationId',
  type: String,
  format: 'uuid',
  description: "The organization's id (`GET /api/v1/me` lists the caller's).",
});

export interface AuthorizedOptions {
  /**
   * Required on every route that reads, exports or changes patient data (test/auth/route-declarations.e2e-spec.ts
   * enforces it): what the audit trail records of each call, denials included.
   */
  audit?: AuditedOptions;
}

/**
 * The one access declaration of a route in an organization: the permission it requires (read by the global
 * AccessGuard, which also checks the caller's membership of the path's `:organizationId`), the Swagger bearer
 * security, the `organizationId` path parameter, the `x-permission` extension, the 400/401/403/429 problem answers,
 * and, with `audit`, the audit trail's options (read by the audit interceptor and hook) and the audit interceptor,
 * first among the route's interceptors (a route without `audit` has none of its own).
 *
 * @example
 * \@Get(':organizationId/profile/:patientId')
 * \@Authorized(Permission.PatientsRead, { audit: { action: AuditAction.Read, resource: 'patient', patientIds: (b: ProfileResponse) => [b.patient.id] } })
 */
export function Authorized(permission: Permission, options: AuthorizedOptions = {}): MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSION, permission),
    ApiBearerAuth('bearer'),
    organizationIdParam,
    ApiExtension('x-permission', permission),
    ApiProblems(VALIDATION_PROBLEM, UNAUTHORIZED_PROBLEM, FORBIDDEN_PROBLEM, TOO_MANY_REQUESTS_PROBLEM),
    ...(options.audit ? [auditRoute(options.audit), interceptAuditedRoute()] : []),
  );
}

/** A route that needs an authenticated user but no organization (e.g. GET /me). */
export function Authenticated(): MethodDecorator {
  return applyDecorators(SetMetadata(AUTHENTICATED_ONLY, true), ApiBearerAuth('bearer'), ApiProblems(UNAUTHORIZED_PROBLEM, TOO_MANY_REQUESTS_PROBLEM));
}

/** The caller's AuthContext, as the guard built it. */
export const Auth = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<AuthenticatedRequest>().auth;
  if (!auth) throw new Error('@Auth() used on a route the AccessGuard did not authenticate (Public route?)');
  return auth;
});
