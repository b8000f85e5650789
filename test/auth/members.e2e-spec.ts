import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createMember, createOrganization, tokenFor } from 'test/auth/auth-fixtures';

describe('organization members (org:manage)', () => {
  let t: TestApp;
  let org: string;
  let ownerId: string;
  let owner: string;
  const url = (suffix = ''): string => `/api/v1/organizations/${org}/members${suffix}`;

  beforeAll(async () => {
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    ownerId = (await createMember(t.db, org, Role.Owner, { email: 'owner@clinic.test', name: 'Olga Owner' })).userId;
    owner = tokenFor(t.settings, ownerId);
  });
  afterAll(async () => {
    await t.close();
  });

  it('adds a person by email, creating the user, and lists members with permissions', async () => {
    const added = await t.inject({ method: 'POST', url: url(), headers: bearer(owner), payload: { email: 'New.Nurse@Clinic.test', role: 'front_desk' } });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ email: 'new.nurse@clinic.test', name: 'new.nurse', role: 'front_desk', permissions: ['patients:read', 'journey:read', 'opportunities:read'] });
    const again = await t.inject({ method: 'POST', url: url(), headers: bearer(owner), payload: { email: 'new.nurse@clinic.test', role: 'admin' } });
    expect(again.statusCode).toBe(409);
    const list = await t.inject({ method: 'GET', url: url(), headers: bearer(owner) });
    expect(list.json().items.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      ['new.nurse@clinic.test', 'front_desk'],
      ['owner@clinic.test', 'owner'],
    ]);
  });

  it('validates role and email', async () => {
    const res = await t.inject({ method: 'POST', url: url(), headers: bearer(owner), payload: { email: 'nope', role: 'nurse' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'role']);
  });

  it('changes a role and removes a member, effective on the next request', async () => {
    const { userId } = await createMember(t.db, org, Role.Admin);
    const token = tokenFor(t.settings, userId);
    const keys = `/api/v1/organizations/${org}/api-keys`;
    expect((await t.inject({ method: 'GET', url: keys, headers: bearer(token) })).statusCode).toBe(403);
    const changed = await t.inject({ method: 'PATCH', url: url(`/${userId}`), headers: bearer(owner), payload: { role: 'owner' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().role).toBe('owner');
    expect((await t.inject({ method: 'GET', url: keys, headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.inject({ method: 'DELETE', url: url(`/${userId}`), headers: bearer(owner) })).statusCode).toBe(204);
    expect((await t.inject({ method: 'GET', url: keys, headers: bearer(token) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'DELETE', url: url(`/${userId}`), headers: bearer(owner) })).statusCode).toBe(404);
  });

  it('a person added while their memberships elsewhere are cached can work here on their next request', async () => {
    const elsewhere = (await createOrganization(t.db)).id;
    const { userId, email } = await createMember(t.db, elsewhere, Role.FrontDesk);
    const token = tokenFor(t.settings, userId);
    const profiles = (o: string): string => `/api/v1/patients/${o}/profiles`;
    expect((await t.inject({ method: 'GET', url: profiles(elsewhere), headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: profiles(org), headers: bearer(token) })).statusCode).toBe(403);
    const added = await t.inject({ method: 'POST', url: url(), headers: bearer(owner), payload: { email, role: 'front_desk' } });
    expect(added.statusCode).toBe(201);
    expect((await t.inject({ method: 'GET', url: profiles(org), headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: profiles(elsewhere), headers: bearer(token) })).statusCode).toBe(200);
  });

  it('never leaves the organization without an owner', async () => {
    const demote = await t.inject({ method: 'PATCH', url: url(`/${ownerId}`), headers: bearer(owner), payload: { role: 'admin' } });
    expect(demote.statusCode).toBe(409);
    expect((await t.inject({ method: 'DELETE', url: url(`/${ownerId}`), headers: bearer(owner) })).statusCode).toBe(409);
    const rows = await t.db.query(`SELECT role FROM memberships WHERE user_id = $1`, [ownerId]);
    expect(rows).toEqual([{ role: 'owner' }]);
  });

  it("does not touch another organization's members", async () => {
    const other = (await createOrganization(t.db)).id;
    const { userId } = await createMember(t.db, other, Role.Clinician);
    expect((await t.inject({ method: 'PATCH', url: url(`/${userId}`), headers: bearer(owner), payload: { role: 'analyst' } })).statusCode).toBe(404);
    expect((await t.inject({ method: 'DELETE', url: url(`/${userId}`), headers: bearer(owner) })).statusCode).toBe(404);
    expect(await t.db.query(`SELECT role FROM memberships WHERE user_id = $1`, [userId])).toEqual([{ role: 'clinician' }]);
  });
});
