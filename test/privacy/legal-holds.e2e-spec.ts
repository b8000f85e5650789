import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient } from 'test/utils/factories';
import { createTestApp, TestApp } from 'test/utils/test-app';

describe('legal holds: /organizations/{organizationId}/legal-holds', () => {
  let t: TestApp;
  let org: string;
  let owner: string;
  const holds = (): string => `/api/v1/organizations/${org}/legal-holds`;
  const erase = (patientId: string) =>
    t.inject({
      method: 'POST',
      url: `/api/v1/patients/${org}/profile/${patientId}/erasure`,
      headers: bearer(owner),
      payload: { reason: 'asked', basis: 'patient_request' },
    });
  const place = (payload: unknown) =>
    t.inject({ method: 'POST', url: holds(), headers: bearer(owner), payload: payload as Record<string, unknown> });
  const patient = (): Promise<string> => createPatient(t.db, t.settings, org, {});

  beforeAll(async () => {
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    owner = await memberToken(t, org, Role.Owner);
  }, 120_000);
  afterAll(() => t.close());

  it('a held patient cannot be erased (409 naming the hold) until the hold is released; the hold calls are audited', async () => {
    const [held, free] = [await patient(), await patient()];
    const placed = await place({ patient_ids: [held], reason: 'Litigation 2026-CV-0142', until: '2027-12-31T00:00:00Z' });
    expect(placed.statusCode).toBe(201);
    const hold = placed.json<{ id: string }>();
    expect(hold).toMatchObject({
      all: false,
      patient_ids: [held],
      reason: 'Litigation 2026-CV-0142',
      until: '2027-12-31T00:00:00.000Z',
      in_force: true,
      released_at: null,
    });

    const refused = await erase(held);
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ status: 409, type: expect.stringMatching(/legal-hold$/), hold_ids: [hold.id] });
    expect(refused.json<{ detail: string }>().detail).toContain(hold.id);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE id = $1`, [held]);
    expect(n).toBe(1);
    expect((await erase(free)).statusCode).toBe(200);

    const list = await t.inject({ method: 'GET', url: holds(), headers: bearer(owner) });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ holds: { id: string }[] }>().holds.map((h) => h.id)).toContain(hold.id);

    const released = await t.inject({ method: 'DELETE', url: `${holds()}/${hold.id}`, headers: bearer(owner) });
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({ id: hold.id, in_force: false, released_at: '2026-11-24T12:00:00.000Z' });
    expect((await erase(held)).statusCode).toBe(200);

    const events = await t.db.query<{ action: string; resource: string }>(
      `SELECT action, resource FROM audit_events WHERE organization_id = $1 AND resource = 'legal_hold' AND outcome = 'success' ORDER BY seq`,
      [org],
    );
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['create', 'list', 'update']));
    const all = JSON.stringify(await t.db.query(`SELECT * FROM audit_events WHERE organization_id = $1`, [org]));
    expect(all).not.toContain('Litigation');
  });

  it('a hold on all patients covers every one, until released; an expired hold covers none', async () => {
    const p = await patient();
    const all = (await place({ all: true, reason: 'Regulator inquiry' })).json<{ id: string }>();
    expect((await erase(p)).statusCode).toBe(409);
    await t.inject({ method: 'DELETE', url: `${holds()}/${all.id}`, headers: bearer(owner) });
    await t.db.query(
      `INSERT INTO legal_holds (organization_id, all_patients, reason_enc, until, created_at, created_by)
                      VALUES ($1, true, 'x', '2026-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'test')`,
      [org],
    );
    expect((await erase(p)).statusCode).toBe(200);
  });

  it('answers 400 naming the field for bad bodies and 404 for an unknown hold', async () => {
    const p = await patient();
    const bad: [unknown, string][] = [
      [{ reason: 'x' }, 'patient_ids'],
      [{ patient_ids: [p], all: true, reason: 'x' }, 'all'],
      [{ patient_ids: [], reason: 'x' }, 'patient_ids'],
      [{ patient_ids: ['nope'], reason: 'x' }, 'patient_ids'],
      [{ all: false, reason: 'x' }, 'all'],
      [{ all: true }, 'reason'],
      [{ all: true, reason: 'x', until: 'tomorrow' }, 'until'],
      [{ all: true, reason: 'x', until: '2020-01-01T00:00:00Z' }, 'until'],
    ];
    for (const [payload, field] of bad) {
      const res = await place(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field.split('.')[0])).toContain(field);
    }
    const unknown = await t.inject({ method: 'DELETE', url: `${holds()}/00000000-0000-4000-8000-000000000009`, headers: bearer(owner) });
    expect(unknown.statusCode).toBe(404);
    const [{ n }] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM legal_holds WHERE organization_id = $1 AND $2 = ANY(patient_ids)`,
      [org, p],
    );
    expect(n).toBe(0);
  });
});
