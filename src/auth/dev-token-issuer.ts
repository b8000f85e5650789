import { signDevToken, parseDuration } from 'src/auth/dev-token';
import { isUuid } from 'src/auth/identity.service';
import { Settings } from 'src/config/settings';
import { Database } from 'src/database/database';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { Role } from 'src/organizations/organizations.enums';

export interface DevTokenRequest {
  /** Organization slug or id. */
  org: string;
  role: Role;
  email?: string;
  /** `15m`, `1h`, `7d`... (default 1h). */
  ttl?: string;
}

export interface IssuedDevToken {
  token: string;
  userId: string;
  email: string;
  organizationId: string;
  organizationSlug: string;
  role: Role;
  expiresInSeconds: number;
  createdUser: boolean;
  membershipChange: 'created' | 'updated' | 'unchanged';
}

/** A mistake of the caller (unknown organization, bad role or duration): shown as one line. */
export class DevTokenError extends Error {}

export function isRole(value: string): value is Role {
  return (Object.values(Role) as string[]).includes(value);
}

/**
 * Development only: ensures a user with the email and a membership with the role exist in the organization
 * (creating or updating them), then signs an HS256 token for that user.
 */
export async function issueDevToken(databaseUrl: string, settings: Settings, request: DevTokenRequest): Promise<IssuedDevToken> {
  if (settings.nodeEnv === 'production') throw new DevTokenError('The token command is for development: production accepts only tokens of your identity provider');
  if (!settings.jwt.secret) throw new DevTokenError('No JWT secret (set JWT_SECRET, or let development generate one under DATA_DIR)');
  if (!isRole(request.role)) throw new DevTokenError(`Unknown role "${request.role}": one of ${Object.values(Role).join(', ')}`);
  let expiresInSeconds: number;
  try {
    expiresInSeconds = parseDuration(request.ttl ?? '1h');
  } catch (e) {
    throw new DevTokenError((e as Error).message);
  }
  if (expiresInSeconds <= 0 || expiresInSeconds > 30 * 86_400) throw new DevTokenError('--ttl must be between 1s and 30d');

  const database = new Database({ url: databaseUrl, poolSize: 1, applicationName: 'patient-journey-token' });
  try {
    // Users and memberships carry no row-level security: the cross-tenant escape hatch, as the auth layer reads them.
    return await database.crossTenant.transaction(async (sql) => {
      const organizations = new OrganizationsRepository();
      const org = isUuid(request.org) ? await organizations.byId(sql, request.org) : await organizations.bySlug(sql, request.org);
      if (!org) throw new DevTokenError(`No organization "${request.org}" (slug or id); the demo seed creates "demo"`);
      const email = (request.email ?? `${request.role.replace('_', '-')}@${org.slug}.example`).trim().toLowerCase();
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) throw new DevTokenError(`Not an email address: "${email}"`);

      const inserted = await sql.query<{ id: string }>(`INSERT INTO users (email, name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING RETURNING id`, [
        email,
        email.split('@')[0],
      ]);
      const userId = inserted[0]?.id ?? (await sql.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [email]))[0].id;
      const before = await sql.query<{ role: Role }>(`SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org.id, userId]);
      await sql.query(
        `INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
        [org.id, userId, request.role],
      );
      const previous = before[0]?.role;
      return {
        token: signDevToken(settings.jwt.secret as string, { sub: userId, email, name: email.split('@')[0] }, { expiresIn: expiresInSeconds }),
        userId,
        email,
        organizationId: org.id,
        organizationSlug: org.slug,
        role: request.role,
        expiresInSeconds,
        createdUser: inserted.length > 0,
        membershipChange: previous === undefined ? 'created' : previous === request.role ? 'unchanged' : 'updated',
      } satisfies IssuedDevToken;
    });
  } finally {
    await database.close();
  }
}
