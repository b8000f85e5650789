import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiParam, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AuthContext, AuthenticatedRequest } from 'src/auth/auth-context';
import { Permission } from 'src/auth/permissions';

/** Metadata key: the permission a route requires. */
export const REQUIRED_PERMISSION = 'patient-journey:permission';
/** Metadata key: the route needs an authenticated caller but no organization. */
export const AUTHENTICATED_ONLY = 'patient-journey:authenticated';

const problemContent = (example: Record<string, unknown>): { 'application/problem+json': { schema: Record<string, unknown> } } => ({
  'application/problem+json': {
    schema: {
      type: 'object',
      required: ['type', 'title', 'status', 'detail'],
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
        instance: { type: 'string' },
      },
      example,
    },
  },
});

const unauthorized = ApiUnauthorizedResponse({
  description: 'No bearer token, or it is malformed, expired or not validly signed.',
  content: problemContent({ type: 'https://patient-journey.dev/problems/unauthorized', title: 'Authentication required', status: 401, detail: 'A bearer token is required' }),
});

const tooMany = ApiTooManyRequestsResponse({
  description: 'Rate limit exceeded; see Retry-After.',
  content: problemContent({ type: 'https://patient-journey.dev/problems/too-many-requests', title: 'Too many requests', status: 429, detail: 'Rate limit exceeded; retry after 12 s' }),
});

// Declared here rather than left to each handler's @Param() DTO: handlers that only read the organization from
// @Auth() have no such DTO, and an undeclared path parameter leaves Swagger UI's "Try it out" without a field for it.
const organizationIdParam = ApiParam({
  name: 'organizationId',
  type: String,
  format: 'uuid',
  description: "The organization's id (`GET /api/v1/me` lists the caller's).",
});

/**
 * The one decorator a protected route carries: the permission it requires (read by the global AccessGuard), the
 * Swagger bearer security, the `organizationId` path parameter, an `x-permission` extension and the 401/403 problem
 * responses. The route's path must contain `:organizationId`: the guard checks the caller's membership of that
 * organization.
 */
export function Authorized(permission: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_PERMISSION, permission),
    ApiBearerAuth('bearer'),
    organizationIdParam,
    ApiExtension('x-permission', permission),
    unauthorized,
    ApiForbiddenResponse({
      description: `The caller is not a member of the organization (or it does not exist), or lacks \`${permission}\`.`,
      content: problemContent({
        type: 'https://patient-journey.dev/problems/permission-denied',
        title: 'Missing permission',
        status: 403,
        detail: `This action requires the permission ${permission}`,
      }),
    }),
    tooMany,
  );
}

/** A route that needs an authenticated user but no organization (e.g. GET /me). */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(AUTHENTICATED_ONLY, true), ApiBearerAuth('bearer'), unauthorized, tooMany);
}

/** The caller's AuthContext, as the guard built it. */
export const Auth = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthContext => {
  const auth = ctx.switchToHttp().getRequest<AuthenticatedRequest>().auth;
  if (!auth) throw new Error('@Auth() used on a route the AccessGuard did not authenticate (Public route?)');
  return auth;
});
