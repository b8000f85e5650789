import { Permission, ROLE_PERMISSIONS } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';
import { fakeDateOnly } from 'test/utils/fake-date';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createMember, createOrganization, memberToken, tokenFor } from 'test/auth/auth-fixtures';

describe('authentication and organization access', () => {
  let t: TestApp;
  let org: { id: string; slug: string };
  let other: { id: string; slug: string };
  let ownerToken: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { AUTH_CACHE_SECONDS: '0' } });
    org = await createOrganization(t.db, { slug: 'alpha', name: 'Alpha Clinic' });
    other = await createOrganization(t.db, { slug: 'beta', name: 'Beta Clinic' });
    ownerToken = await memberToken(t, org.id, Role.Owner);
  });
  afterAll(async () => {
    await t.close();
  });

  const keysUrl = (orgId: string): string => `/api/v1/organizations/${orgId}/api-keys`;

  it('GET /me lists the user, its memberships, roles and permissions', async () => {
    const { userId, email } = await createMember(t.db, org.id, Role.Clinician, { name: 'Dr Who' });
    await t.db.query(`INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'analyst')`, [other.id, userId]);
    const res = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tokenFor(t.settings, userId)) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      user: { id: userId, email, name: 'Dr Who' },
      memberships: [
        { organization_id: org.id, organization_slug: 'alpha', organization_name: 'Alpha Clinic', role: 'clinician', permissions: [...ROLE_PERMISSIONS.clinician] },
        { organization_id: other.id, organization_slug: 'beta', organization_name: 'Beta Clinic', role: 'analyst', permissions: ['analytics:read'] },
      ],
    });
  });

  it.each([
    ['no token', {}, 'A bearer token is required'],
    ['a malformed token', { authorization: 'Bearer not.a.jwt' }, 'malformed'],
    ['a non-bearer scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'A bearer token is required'],
  ])('answers 401 problem+json with WWW-Authenticate for %s', async (_name, headers, detail) => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toMatchObject({ status: 401, type: expect.stringContaining('/unauthorized') });
    expect(res.json().detail).toContain(detail);
  });

  it('answers 401 for an expired token, a wrong signature and an unknown subject', async () => {
    const { userId } = await createMember(t.db, org.id, Role.Admin);
    const expired = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tokenFor(t.settings, userId, { expiresIn: -60 })) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().detail).toBe('The token has expired');
    const wrongSettings = { ...t.settings, jwt: { ...t.settings.jwt, secret: 'another-secret-another-secret-another-secret' } };
    const forged = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tokenFor(wrongSettings, userId)) });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toBe('The token signature is not valid');
    const unknown = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tokenFor(t.settings, '00000000-0000-4000-8000-000000000000')) });
    expect(unknown.statusCode).toBe(401);
  });

  it('remembers a verified token only until it expires, and never for another signature', async () => {
    // An app that remembers verified tokens (this file's app does not), on a faked wall clock: the token's `exp` and
    // the remembered verdict are both read from Date, and the test moves it past `exp` instead of sleeping.
    const cached = await createTestApp({ env: { AUTH_CACHE_SECONDS: '60' } });
    const start = Math.floor(Date.now() / 1000) * 1000;
    fakeDateOnly(start);
    try {
      const own = await createOrganization(cached.db, { slug: 'remember' });
      const { userId } = await createMember(cached.db, own.id, Role.Admin);
      const token = tokenFor(cached.settings, userId, { expiresIn: 2 });
      const me = (tok: string) => cached.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(tok) });
      expect([(await me(token)).statusCode, (await me(token)).statusCode]).toEqual([200, 200]);
      // Same header and payload, another signature: verified on its own, and refused.
      const [header, payload] = token.split('.');
      const wrongSettings = { ...cached.settings, jwt: { ...cached.settings.jwt, secret: 'another-secret-another-secret-another-secret' } };
      const resigned = `${header}.${payload}.${tokenFor(wrongSettings, userId, { expiresIn: 2 }).split('.')[2]}`;
      expect((await me(resigned)).statusCode).toBe(401);
      const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number }).exp * 1000;
      expect(exp).toBe(start + 2_000);
      jest.setSystemTime(exp - 1); // a millisecond before exp: still remembered, still valid
      expect((await me(token)).statusCode).toBe(200);
      jest.setSystemTime(exp + 1_000); // past exp (jsonwebtoken counts whole seconds), well within the 60 s memory
      const late = await me(token);
      expect(late.statusCode).toBe(401);
      expect(late.json().detail).toBe('The token has expired');
    } finally {
      jest.useRealTimers();
      await cached.close();
    }
  });

  it('refuses an alg=none token', async () => {
    const { userId } = await createMember(t.db, org.id, Role.Admin);
    const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: userId, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    const res = await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(none) });
    expect(res.statusCode).toBe(401);
  });

  it('answers the same 403 for an organization the caller is not in and for one that does not exist', async () => {
    const notMember = await t.inject({ method: 'GET', url: keysUrl(other.id), headers: bearer(ownerToken) });
    const missing = await t.inject({ method: 'GET', url: keysUrl('7f1c1a52-7d8b-4c43-9c1e-1a2b3c4d5e6f'), headers: bearer(ownerToken) });
    expect(notMember.statusCode).toBe(403);
    expect(missing.statusCode).toBe(403);
    const strip = (b: Record<string, unknown>): Record<string, unknown> => ({ ...b, instance: undefined });
    expect(strip(notMember.json())).toEqual(strip(missing.json()));
    expect(notMember.json().type).toContain('/organization-access-denied');
  });

  it('answers 403 naming the missing permission to a member without it', async () => {
    const token = await memberToken(t, org.id, Role.Admin);
    const res = await t.inject({ method: 'GET', url: keysUrl(org.id), headers: bearer(token) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ type: expect.stringContaining('/permission-denied'), permission: Permission.OrgManage });
    expect(res.json().detail).toContain('org:manage');
  });

  it('answers 400 naming organizationId when it is not a UUID', async () => {
    const res = await t.inject({ method: 'GET', url: keysUrl('alpha'), headers: bearer(ownerToken) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ in: 'path', field: 'organizationId', message: 'must be a UUID' }]);
  });

  it('stops honouring a membership as soon as it is revoked (cache off here)', async () => {
    const { userId } = await createMember(t.db, org.id, Role.Owner);
    const token = tokenFor(t.settings, userId);
    expect((await t.inject({ method: 'GET', url: keysUrl(org.id), headers: bearer(token) })).statusCode).toBe(200);
    await t.db.query(`DELETE FROM memberships WHERE user_id = $1`, [userId]);
    expect((await t.inject({ method: 'GET', url: keysUrl(org.id), headers: bearer(token) })).statusCode).toBe(403);
  });
});
