import { TrailWriter } from 'src/audit/trail/trail-writer';
import { Role } from 'src/organizations/organizations.enums';
import * as mappers from 'src/patients/profile-mappers';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { addScoredPatients, auditRows } from 'test/audit/audit-fixtures';

/** The real application as createApp() builds it (helmet, prefix, error handler): the patient routes are audited. */
describe('audit trail on the real patient routes', () => {
  let t: TestApp;
  let org: { id: string; slug: string };
  let ids: string[];
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    org = await createOrganization(t.db);
    ids = await addScoredPatients(t.db, org.id, ['Ada Lovelace', 'Grace Hopper']);
    token = await memberToken(t, org.id, Role.FrontDesk);
  });
  afterAll(async () => {
    await t.close();
  });

  it('records the list, the profile, a refused call and a 404, in one chain that verifies', async () => {
    const missing = '5d1e0c7a-9f7b-4a39-8a4e-1f2e3d4c5b6a';
    expect((await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profiles?sort=name&search=Ada`, headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profile/${ids[1]}`, headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profile/${ids[0]}` })).statusCode).toBe(401);
    expect((await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profile/${missing}`, headers: bearer(token) })).statusCode).toBe(404);
    const rows = await auditRows(t.db, org.id);
    expect(rows.map((r) => [r.action, r.outcome, r.status_code, r.patient_ids])).toEqual([
      ['list', 'success', 200, [ids[0]]],
      ['read', 'success', 200, [ids[1]]],
      ['access_denied', 'denied', 401, [ids[0]]],
      ['access_denied', 'denied', 404, [missing]],
    ]);
    expect(rows[0]).toMatchObject({ route: '/api/v1/patients/:organizationId/profiles', query: { sort: 'name', search: '[REDACTED]' } });
    const admin = await memberToken(t, org.id, Role.Admin);
    const verify = await t.inject({ method: 'GET', url: `/api/v1/audit/${org.id}/verify`, headers: bearer(admin) });
    expect(verify.json()).toEqual({ valid: true, events_checked: 4, first_broken: null });
  });

  it("hands a list page's event to the trail before its contacts are decrypted, and records it once", async () => {
    const calls: string[] = [];
    const append = jest.spyOn(TrailWriter.prototype, 'append');
    append.mockImplementation(function (this: TrailWriter, ...args: Parameters<TrailWriter['append']>) {
      calls.push(`event ${args[0].action} ${args[0].patientIds.length}`);
      return originalAppend.apply(this, args);
    });
    // Each row's decryption and mapping (toListItem).
    const map = jest.spyOn(mappers, 'toListItem').mockImplementation((...args: Parameters<typeof mappers.toListItem>) => {
      calls.push('decrypt');
      return originalToListItem(...args);
    });
    try {
      const before = (await auditRows(t.db, org.id)).length;
      // A page the page cache cannot hold (limit above MAX_CACHED_PAGE_LIMIT): read, decrypted, recorded.
      const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profiles?sort=name&limit=500`, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      expect(res.json<{ patients: unknown[] }>().patients).toHaveLength(2);
      // The event (both patients) before the first row is decrypted: its write overlaps the page's decryption.
      expect(calls).toEqual(['event list 2', 'decrypt', 'decrypt']);
      const rows = (await auditRows(t.db, org.id)).slice(before);
      expect(rows.map((r) => [r.action, r.outcome, r.status_code, [...r.patient_ids].sort()])).toEqual([['list', 'success', 200, [...ids].sort()]]);
    } finally {
      append.mockRestore();
      map.mockRestore();
    }
  });
});

const originalAppend = TrailWriter.prototype.append;
const originalToListItem = mappers.toListItem;
