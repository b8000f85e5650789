import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';

/**
 * Who is calling, for which organization, with what rights. Built by the global AccessGuard and stored on the
 * request as `request.auth`; handlers get it with `@Auth()`.
 *
 * On `Authenticated()` routes (no organization in the path, e.g. GET /me) `organizationId` is `''`, `role` is
 * null and `permissions` is empty.
 */
export interface AuthContext {
  actor: { type: 'user' | 'api_key'; id: string };
  organizationId: string;
  /** The member's role; null for an API key (which carries permissions, not a role). */
  role: Role | null;
  permissions: ReadonlySet<Permission>;
  requestId: string;
}

export function hasPermission(auth: AuthContext, p: Permission): boolean {
  return auth.permissions.has(p);
}

/** The request as the guard leaves it. */
export interface AuthenticatedRequest {
  auth?: AuthContext;
}
