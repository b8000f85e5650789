import { Inject, Injectable } from '@nestjs/common';
import { hashApiKey } from 'src/auth/api-key';
import { ApiKeyRow, AuthRepository, UserRow } from 'src/auth/auth.repository';
import { JwtClaims } from 'src/auth/jwt.strategy';
import { TtlCache } from 'src/auth/ttl-cache';
import { Clock } from 'src/common/clock/clock';
import { isServiceUnavailable } from 'src/common/resilience/service-unavailable';
import { ProblemException } from 'src/common/problem/problem';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import { Role } from 'src/organizations/organizations.enums';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A user's memberships are read and cached together (one statement for a user's first request to any of their
 * organizations, instead of one per organization) up to this many; a user in more organizations is looked up one
 * organization at a time, as before.
 */
export const MAX_CACHED_MEMBERSHIPS = 1_000;

/** Users whose memberships one process keeps at most (each for AUTH_CACHE_SECONDS): bounds the cache's memory. */
const MAX_CACHED_USERS = 2_000;

/** A user's roles by organization id, or `partial` when the user has more than MAX_CACHED_MEMBERSHIPS. */
type UserRoles = Map<string, Role> | 'partial';

/**
 * Who a verified token or an API key is, and which role a user holds in an organization. Look-ups are cached for
 * `AUTH_CACHE_SECONDS` (default 5): seconds, not minutes, so a revoked membership or key stops working quickly.
 */
@Injectable()
export class IdentityService {
  private readonly users: TtlCache<UserRow | null>;
  /** Each user's roles in all their organizations, read together (MAX_CACHED_MEMBERSHIPS). */
  private readonly userRoles: TtlCache<UserRoles>;
  /** One user's role in one organization, for the users in more than MAX_CACHED_MEMBERSHIPS organizations. */
  private readonly roles: TtlCache<Role | null>;
  private readonly keys: TtlCache<ApiKeyRow | null>;
  /** See MAX_CACHED_MEMBERSHIPS (tests set fewer). */
  maxCachedMemberships = MAX_CACHED_MEMBERSHIPS;

  constructor(
    private readonly repo: AuthRepository,
    private readonly clock: Clock,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {
    // While the database is away, the last look-ups stand for up to STALE_IF_ERROR_SECONDS (so that cached aggregates
    // can still be served stale): no membership or key can be revoked meanwhile anyway, the database being away.
    const stale = { staleIfErrorSeconds: settings.resilience.staleIfErrorSeconds };
    this.users = new TtlCache(settings.authCacheSeconds, undefined, undefined, stale);
    this.userRoles = new TtlCache(settings.authCacheSeconds, MAX_CACHED_USERS, undefined, stale);
    this.roles = new TtlCache(settings.authCacheSeconds, undefined, undefined, stale);
    this.keys = new TtlCache(settings.authCacheSeconds, undefined, undefined, stale);
  }

  /** The user a verified token stands for; 401 when the subject is unknown. */
  async userForClaims(claims: JwtClaims): Promise<UserRow> {
    const user = await this.users.get(claims.sub, () => this.lookUpUser(claims));
    if (!user) throw ProblemException.unauthorized("The token's subject is not a user of this service");
    return user;
  }

  /**
   * The user's role in the organization, or null. A user's memberships are read together and cached for
   * AUTH_CACHE_SECONDS (a user who works in several clinics pays one look-up for all of them, not one per clinic);
   * a user in more than MAX_CACHED_MEMBERSHIPS organizations is looked up per organization.
   */
  async membershipRole(userId: string, organizationId: string): Promise<Role | null> {
    const all = await this.userRoles.get(userId, () => this.loadRoles(userId));
    if (all !== 'partial') return all.get(organizationId.toLowerCase()) ?? null;
    return this.roles.get(`${userId}:${organizationId}`, () => this.repo.findMembershipRole(userId, organizationId));
  }

  private async loadRoles(userId: string): Promise<UserRoles> {
    const max = this.maxCachedMemberships;
    const rows = await this.repo.findMembershipRoles(userId, max + 1);
    if (rows.length > max) return 'partial';
    return new Map(rows.map((r) => [r.organization_id, r.role]));
  }

  /** The live API key for a presented key; 401 when unknown, revoked or expired. */
  async apiKey(token: string): Promise<ApiKeyRow> {
    const hash = hashApiKey(token);
    const key = await this.keys.get(hash, () => this.repo.findApiKeyByHash(hash));
    const now = this.clock.now();
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      throw ProblemException.unauthorized('The API key is not valid (unknown, revoked or expired)');
    }
    // Bookkeeping only: a database that is away does not refuse the key (the look-up above decided).
    await this.repo.touchApiKey(key.id, now).catch((err: unknown) => {
      if (!isServiceUnavailable(err)) throw err;
    });
    return key;
  }

  /**
   * Drops the user's cached memberships (after a member is added, a role changed or a member removed through the API:
   * effective at once on this instance).
   */
  forgetMembership(userId: string, organizationId: string): void {
    this.userRoles.delete(userId);
    this.roles.delete(`${userId}:${organizationId}`);
  }

  /** Drops cached look-ups (after a key is revoked through the API, so it stops at once on this instance). */
  forgetApiKeys(): void {
    this.keys.clear();
  }

  private async lookUpUser(claims: JwtClaims): Promise<UserRow | null> {
    // Development tokens (HS256, signed by the token CLI) carry the user's id as `sub`.
    if (this.settings.nodeEnv !== 'production' && isUuid(claims.sub)) {
      const byId = await this.repo.findUserById(claims.sub);
      if (byId) return byId;
    }
    const bySubject = await this.repo.findUserBySubject(claims.sub);
    if (bySubject) return bySubject;
    // First sign-in of a user provisioned by email: bind the provider's subject, only on a verified email.
    if (claims.email && claims.email_verified) return this.repo.bindSubjectByEmail(claims.email, claims.sub);
    return null;
  }
}
