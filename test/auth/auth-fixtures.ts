import { randomBytes } from 'node:crypto';
import { DevTokenClaims, signDevToken } from 'src/auth/dev-token';
import { Settings } from 'src/config/settings';
import { Role } from 'src/organizations/organizations.enums';
import type { TestApp } from 'test/utils/test-app';
import type { TestDatabase } from 'test/utils/test-database';

/** Fixtures for every module's e2e tests: organizations, members and their bearer tokens. */

const unique = (): string => randomBytes(4).toString('hex');

export async function createOrganization(
  db: TestDatabase,
  options: { slug?: string; name?: string; timezone?: string; currency?: string } = {},
): Promise<{ id: string; slug: string }> {
  const slug = options.slug ?? `org-${unique()}`;
  const rows = await db.query<{ id: string; slug: string }>(
    `INSERT INTO organizations (slug, name, timezone, currency) VALUES ($1, $2, $3, $4) RETURNING id, slug`,
    [slug, options.name ?? `Clinic ${slug}`, options.timezone ?? 'UTC', options.currency ?? 'USD'],
  );
  return rows[0];
}

export async function createUser(db: TestDatabase, options: { email?: string; name?: string } = {}): Promise<{ userId: string; email: string }> {
  const email = (options.email ?? `user-${unique()}@example.test`).toLowerCase();
  const rows = await db.query<{ id: string }>(`INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id`, [email, options.name ?? 'Test User']);
  return { userId: rows[0].id, email };
}

export async function createMember(
  db: TestDatabase,
  organizationId: string,
  role: Role,
  options: { email?: string; name?: string } = {},
): Promise<{ userId: string; email: string }> {
  const user = await createUser(db, options);
  await db.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)`, [organizationId, user.userId, role]);
  return user;
}

/**
 * An HS256 development token for a user id (or full claims), signed with the test app's JWT secret.
 * `expiresIn`: seconds or `15m`/`1h`/`-1h` (negative: already expired). Expiry is wall-clock time.
 */
export function tokenFor(settings: Settings, user: string | DevTokenClaims, options: { expiresIn?: string | number } = {}): string {
  if (!settings.jwt.secret) throw new Error('tokenFor needs settings.jwt.secret (the test app sets JWT_SECRET)');
  const claims: DevTokenClaims = typeof user === 'string' ? { sub: user } : user;
  return signDevToken(settings.jwt.secret, claims, { expiresIn: options.expiresIn ?? '1h' });
}

/** One call: a new user with `role` in the organization, and a bearer token for it (without the `Bearer ` prefix). */
export async function memberToken(t: Pick<TestApp, 'db' | 'settings'>, organizationId: string, role: Role): Promise<string> {
  const { userId } = await createMember(t.db, organizationId, role);
  return tokenFor(t.settings, userId);
}

export const bearer = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
