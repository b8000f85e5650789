import { createHash } from 'node:crypto';
import { Permission } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';

describe('integration API keys', () => {
  let t: TestApp;
  let org: string;
  let other: string;
  let owner: string;
  const keysUrl = (o: string): string => `/api/v1/organizations/${o}/api-keys`;

  beforeAll(async () => {
    t = await createTestApp({ env: { AUTH_CACHE_SECONDS: '0' } });
    org = (await createOrganization(t.db)).id;
    other = (await createOrganization(t.db)).id;
    owner = await memberToken(t, org, Role.Owner);
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (payload: Record<string, unknown>, orgId = org, token = owner) =>
    t.inject({ method: 'POST', url: keysUrl(orgId), headers: bearer(token), payload });

  it('creates a key shown once, stores only its SHA-256, and lists it without the secret', async () => {
    const res = await create({ name: 'EHR sync', permissions: [Permission.DataWrite, Permission.PatientsRead] });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ name: 'EHR sync', permissions: ['data:write', 'patients:read'], expires_at: null, revoked_at: null, last_used_at: null, created_at: TEST_NOW.toISOString() });
    expect(body.key).toMatch(/^pjk_[A-Za-z0-9_-]{40}$/);
    expect(body.prefix).toBe(body.key.slice(0, 12));
    const [row] = await t.db.query<{ key_hash: string }>(`SELECT key_hash FROM api_keys WHERE id = $1`, [body.id]);
    expect(row.key_hash).toBe(createHash('sha256').update(body.key).digest('hex'));
    const list = await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer(owner) });
    expect(list.statusCode).toBe(200);
    // Other tests of this file add keys to the same organization: this one is listed once, without its secret.
    expect(list.json().items.filter((k: { id: string }) => k.id === body.id)).toEqual([{ ...body, key: undefined }]);
    expect(list.body).not.toContain(body.key);
    expect(list.body).not.toContain(row.key_hash);
  });

  it('validates the body: name, known permissions, no org:manage, future expiry', async () => {
    const bad = await create({ name: '', permissions: ['patients:read', 'nope'], extra: 1 });
    expect(bad.statusCode).toBe(400);
    const fields = bad.json().errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['name', 'permissions', 'extra']));
    expect((await create({ name: 'x', permissions: ['org:manage'] })).statusCode).toBe(400);
    expect((await create({ name: 'x', permissions: [] })).statusCode).toBe(400);
    const past = await create({ name: 'x', permissions: ['data:write'], expires_at: '2020-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    expect(past.json().errors).toEqual([{ in: 'body', field: 'expires_at', message: 'must be in the future' }]);
  });

  it('authenticates a key for its own organization only, with its own permissions', async () => {
    const { key } = (await create({ name: 'billing', permissions: [Permission.DataWrite] })).json();
    // The key is valid and belongs to `org`, but carries no org:manage: 403 naming it.
    const own = await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer(key) });
    expect(own.statusCode).toBe(403);
    expect(own.json()).toMatchObject({ permission: 'org:manage', type: expect.stringContaining('/permission-denied') });
    // Another organization: the same 403 as for a user who is not a member.
    const foreign = await t.inject({ method: 'GET', url: keysUrl(other), headers: bearer(key) });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().type).toContain('/organization-access-denied');
    // A key is not a user: GET /me refuses it.
    expect((await t.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(key) })).statusCode).toBe(403);
    const [row] = await t.db.query<{ last_used_at: Date }>(`SELECT last_used_at FROM api_keys WHERE prefix = $1`, [key.slice(0, 12)]);
    expect(row.last_used_at.toISOString()).toBe(TEST_NOW.toISOString());
  });

  it('answers 401 for an unknown, revoked or expired key', async () => {
    expect((await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer('pjk_' + 'a'.repeat(40)) })).statusCode).toBe(401);
    const created = (await create({ name: 'temp', permissions: [Permission.DataWrite] })).json();
    const del = await t.inject({ method: 'DELETE', url: `${keysUrl(org)}/${created.id}`, headers: bearer(owner) });
    expect(del.statusCode).toBe(204);
    const revoked = await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer(created.key) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().detail).toContain('revoked');
    expect((await t.inject({ method: 'DELETE', url: `${keysUrl(org)}/${created.id}`, headers: bearer(owner) })).statusCode).toBe(404);
    const expiring = (await create({ name: 'soon', permissions: [Permission.DataWrite], expires_at: '2026-11-24T13:00:00Z' })).json();
    expect((await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer(expiring.key) })).statusCode).toBe(403);
    t.clock.set(new Date('2026-11-24T13:00:01Z'));
    try {
      expect((await t.inject({ method: 'GET', url: keysUrl(org), headers: bearer(expiring.key) })).statusCode).toBe(401);
    } finally {
      t.clock.set(TEST_NOW);
    }
  });

  it("cannot revoke another organization's key through its own organization", async () => {
    const otherOwner = await memberToken(t, other, Role.Owner);
    const theirs = (await create({ name: 'theirs', permissions: [Permission.DataWrite] }, other, otherOwner)).json();
    const res = await t.inject({ method: 'DELETE', url: `${keysUrl(org)}/${theirs.id}`, headers: bearer(owner) });
    expect(res.statusCode).toBe(404);
    const [row] = await t.db.query<{ revoked_at: Date | null }>(`SELECT revoked_at FROM api_keys WHERE id = $1`, [theirs.id]);
    expect(row.revoked_at).toBeNull();
  });

  it('documents each route with its permission and bearer security in OpenAPI', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/api/docs-json' })).json();
    const op = doc.paths['/api/v1/organizations/{organizationId}/api-keys'].post;
    expect(op['x-permission']).toBe('org:manage');
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    expect(doc.paths['/api/v1/me'].get.security).toEqual([{ bearer: [] }]);
  });
});
