import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { isApiKeyToken } from 'src/auth/api-key';
import { AuthContext, AuthenticatedRequest } from 'src/auth/auth-context';
import { AUTHENTICATED_ONLY, REQUIRED_PERMISSION } from 'src/auth/authorized.decorator';
import { IdentityService, isUuid } from 'src/auth/identity.service';
import { JwtClaims } from 'src/auth/jwt.strategy';
import { isPermission, Permission, ROLE_PERMISSIONS } from 'src/auth/permissions';
import { IS_PUBLIC } from 'src/common/http/public.decorator';
import { settleIpLimit } from 'src/auth/throttling/rate-limit.guard';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

type GuardedRequest = FastifyRequest & AuthenticatedRequest & { user?: JwtClaims; params: Record<string, string | undefined> };

/** Same answer for "no such organization" and "not a member": no enumeration of organization ids. */
const NO_ACCESS = (): ProblemException =>
  ProblemException.forbidden(ProblemCode.OrganizationAccessDenied, 'You do not have access to this organization');

/** The route's declaration: public, authentication only, or a permission. */
export interface RouteAccess {
  isPublic: boolean;
  authenticatedOnly: boolean;
  permission: Permission | null;
}

export function routeAccess(reflector: Reflector, handler: Function, controller: Function): RouteAccess {
  const targets = [handler, controller];
  return {
    isPublic: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
    authenticatedOnly: reflector.getAllAndOverride<boolean | undefined>(AUTHENTICATED_ONLY, targets) === true,
    permission: reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets) ?? null,
  };
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

/** Most tokens this process remembers as verified (then it forgets them all and starts over). */
const MAX_VERIFIED_TOKENS = 10_000;

/** `exp` of a token passport has already verified (seconds since the epoch), or null when it has none. */
function expiresAt(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}

/**
 * The one global guard: resolves the caller (development/OIDC JWT through passport-jwt, or an integration API key),
 * the `organizationId` path parameter, the caller's membership and the route's permission, and leaves the
 * AuthContext on `request.auth`. A route without a declaration is refused (safe by default).
 */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') implements CanActivate {
  /**
   * Tokens passport verified in the last AUTH_CACHE_SECONDS, with their claims, each until that lifetime or its
   * `exp`, whichever comes first. Keyed by the whole token, signature included, so a hit is the very token that was
   * verified; checking a signature through passport costs about a tenth of a cached read's CPU.
   */
  private readonly verified = new Map<string, { claims: JwtClaims; until: number }>();
  private readonly verifiedForMs: number;
  /** Each route's declaration (by controller, then handler), read from its metadata once: it never changes. */
  private readonly declarations = new WeakMap<Function, WeakMap<Function, RouteAccess>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly identity: IdentityService,
    @Inject(SETTINGS) settings: Settings,
  ) {
    super();
    this.verifiedForMs = settings.authCacheSeconds * 1000;
  }

  /** passport-jwt's verification, or its remembered verdict on this very token (see `verified`). */
  private async verifiedClaims(ctx: ExecutionContext, request: GuardedRequest, token: string): Promise<JwtClaims> {
    const now = Date.now();
    const hit = this.verified.get(token);
    if (hit && hit.until > now) {
      request.user = hit.claims;
      return hit.claims;
    }
    // A signature to check: the client IP's limit first, so that a guesser over it learns nothing of its token.
    await settleIpLimit(request);
    await super.canActivate(ctx);
    const claims = request.user as JwtClaims;
    if (this.verifiedForMs > 0) {
      const exp = expiresAt(token);
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
      this.verified.set(token, { claims, until: Math.min(now + this.verifiedForMs, exp === null ? Infinity : exp * 1000) });
    }
    return claims;
  }

  override async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const [handler, controller] = [ctx.getHandler(), ctx.getClass()];
    let byHandler = this.declarations.get(controller);
    if (byHandler === undefined) this.declarations.set(controller, (byHandler = new WeakMap()));
    let access = byHandler.get(handler);
    if (access === undefined) byHandler.set(handler, (access = routeAccess(this.reflector, handler, controller)));
    if (access.isPublic) return true;
    const request = ctx.switchToHttp().getRequest<GuardedRequest>();
    try {
      return await this.authorizeRequest(ctx, request, access);
    } catch (err) {
      // A request over its client IP's limit gets the 429, never the refusal (IpRateLimitGuard's pending count).
      await settleIpLimit(request);
      throw err;
    }
  }

  /**
   * The caller, organization, membership and permission. The client IP's limit may still be pending here (counted
   * with the caller's by the CallerRateLimitGuard): only a token this process verified already goes on without it;
   * an unverified one and an API key (a database look-up) wait for it (`settleIpLimit`), as a refusal does.
   */
  private async authorizeRequest(ctx: ExecutionContext, request: GuardedRequest, access: RouteAccess): Promise<boolean> {
    const token = bearerToken(request);
    if (token === null) throw ProblemException.unauthorized('A bearer token is required (Authorization: Bearer <token>)');

    if (isApiKeyToken(token)) {
      await settleIpLimit(request);
      const key = await this.identity.apiKey(token);
      const organizationId = this.organizationParam(request, access);
      const permissions = new Set(key.permissions.filter(isPermission));
      const auth: AuthContext = { actor: { type: 'api_key', id: key.id }, organizationId, role: null, permissions, requestId: request.id };
      // The caller is known from here on: a refusal below is audited with its actor (the handler never runs).
      request.auth = { ...auth, permissions: new Set() };
      if (key.organizationId !== organizationId) throw NO_ACCESS();
      request.auth = this.authorize(auth, access);
      return true;
    }

    const user = await this.identity.userForClaims(await this.verifiedClaims(ctx, request, token));
    if (access.authenticatedOnly && access.permission === null) {
      request.auth = { actor: { type: 'user', id: user.id }, organizationId: '', role: null, permissions: new Set(), requestId: request.id };
      return true;
    }
    const organizationId = this.organizationParam(request, access);
    const role = await this.identity.membershipRole(user.id, organizationId);
    // The caller is known from here on: a refusal below is audited with its actor (the handler never runs).
    request.auth = { actor: { type: 'user', id: user.id }, organizationId, role, permissions: new Set(), requestId: request.id };
    if (role === null) throw NO_ACCESS();
    request.auth = this.authorize(
      { actor: { type: 'user', id: user.id }, organizationId, role, permissions: new Set(ROLE_PERMISSIONS[role]), requestId: request.id },
      access,
    );
    return true;
  }

  /** passport's verdict: anything but a verified token is a 401 problem. */
  override handleRequest<TUser = JwtClaims>(err: unknown, user: unknown, info: unknown): TUser {
    if (err || !user) throw ProblemException.unauthorized(unauthorizedDetail(info));
    return user as TUser;
  }

  private organizationParam(request: GuardedRequest, access: RouteAccess): string {
    if (access.permission === null) {
      // Undeclared route (or Authenticated() route reached with an API key): refused by default.
      throw ProblemException.forbidden(ProblemCode.Forbidden, 'This route is not available to this caller');
    }
    const organizationId = request.params.organizationId;
    if (organizationId === undefined) throw new Error(`Route ${request.routeOptions.url ?? request.url} uses @Authorized but has no :organizationId`);
    if (!isUuid(organizationId)) throw ProblemException.invalidField('path', 'organizationId', 'must be a UUID');
    return organizationId.toLowerCase();
  }

  private authorize(auth: AuthContext, access: RouteAccess): AuthContext {
    const permission = access.permission as Permission;
    if (!auth.permissions.has(permission)) {
      throw new ProblemException(ProblemCode.PermissionDenied, HttpStatus.FORBIDDEN, `This action requires the permission ${permission}`, undefined, undefined, {
        permission,
      });
    }
    return auth;
  }
}

function unauthorizedDetail(info: unknown): string {
  const name = info instanceof Error ? info.name : '';
  const message = info instanceof Error ? info.message : '';
  if (name === 'TokenExpiredError') return 'The token has expired';
  if (name === 'NotBeforeError') return 'The token is not valid yet';
  if (message.includes('signature')) return 'The token signature is not valid';
  if (message.includes('audience') || message.includes('issuer')) return 'The token was not issued for this API';
  return 'The bearer token is malformed or not valid';
}
