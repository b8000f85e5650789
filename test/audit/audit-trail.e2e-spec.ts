import { Role } from 'src/organizations/organizations.enums';
import { bearer, createMember, createOrganization, memberToken, tokenFor } from 'test/auth/auth-fixtures';
import { AuditTestApp, createAuditTestApp } from 'test/audit/audit-test-app';
import { addPatients, auditRows, NIL_ORG } from 'test/audit/audit-fixtures';

describe('audit trail: what is recorded', () => {
  let t: AuditTestApp;
  let org: { id: string; slug: string };
  let other: { id: string; slug: string };
  let patientIds: string[];
  let clinician: string;
  const names = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
  const base = (orgId: string): string => `/api/v1/audit-test/${orgId}`;
  const last = async (orgId: string): Promise<Awaited<ReturnType<typeof auditRows>>[number]> => {
    const rows = await auditRows(t.db, orgId);
    return rows[rows.length - 1];
  };

  beforeAll(async () => {
    t = await createAuditTestApp();
    org = await createOrganization(t.db);
    other = await createOrganization(t.db);
    patientIds = await addPatients(t.db, org.id, names);
    clinician = await memberToken(t, org.id, Role.Clinician);
  });
  afterAll(async () => {
    await t.close();
  });

  it('records a list read with every patient on the page, the actor, the route and a PHI-free query', async () => {
    const before = (await auditRows(t.db, org.id)).length;
    const res = await t.inject({
      method: 'GET',
      url: `${base(org.id)}/profiles?limit=20&search=Ada%20Lovelace&cursor=QWRh`,
      headers: { ...bearer(clinician), 'user-agent': 'jest-agent', 'x-request-id': 'req-123' },
    });
    expect(res.statusCode).toBe(200);
    const rows = await auditRows(t.db, org.id);
    expect(rows.length).toBe(before + 1);
    expect(rows[rows.length - 1]).toMatchObject({
      action: 'list',
      resource: 'patient',
      outcome: 'success',
      status_code: 200,
      method: 'GET',
      actor_type: 'user',
      actor_role: 'clinician',
      route: '/api/v1/audit-test/:organizationId/profiles',
      query: { limit: '20', search: '[REDACTED]', cursor: '[REDACTED]' },
      request_id: 'req-123',
      user_agent: 'jest-agent',
      ip: '127.0.0.1',
    });
    expect([...rows[rows.length - 1].patient_ids].sort()).toEqual([...patientIds].sort());
  });

  it('records a single-patient read with its id', async () => {
    const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profile/${patientIds[1]}`, headers: bearer(clinician) });
    expect(res.statusCode).toBe(200);
    expect(await last(org.id)).toMatchObject({ action: 'read', outcome: 'success', status_code: 200, patient_ids: [patientIds[1]] });
  });

  it('records cache hits like fresh answers', async () => {
    const before = (await auditRows(t.db, org.id)).length;
    for (let i = 0; i < 3; i++) {
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/cached-profiles`, headers: bearer(clinician) });
      expect(res.statusCode).toBe(200);
      expect(res.json().patients).toHaveLength(3);
    }
    const rows = (await auditRows(t.db, org.id)).slice(before);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect([...r.patient_ids].sort()).toEqual([...patientIds].sort());
  });

  describe('denied attempts', () => {
    it('401 without a token: recorded as access_denied, no actor, with the patient named in the path', async () => {
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profile/${patientIds[0]}` });
      expect(res.statusCode).toBe(401);
      expect(await last(org.id)).toMatchObject({ action: 'access_denied', outcome: 'denied', status_code: 401, actor_id: null, patient_ids: [patientIds[0]] });
    });

    // The AccessGuard leaves request.auth (without permissions) once it knows the caller, so refusals name them.
    it('403 for a member without the permission: recorded with the caller', async () => {
      const analyst = await createMember(t.db, org.id, Role.Analyst);
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profiles`, headers: bearer(tokenFor(t.settings, analyst.userId)) });
      expect(res.statusCode).toBe(403);
      expect(await last(org.id)).toMatchObject({ action: 'access_denied', outcome: 'denied', status_code: 403, patient_ids: [], actor_id: analyst.userId, actor_role: 'analyst' });
    });

    it('403 for a caller of another organization: recorded in the organization it tried to read', async () => {
      const outsider = await createMember(t.db, other.id, Role.Owner);
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profile/${patientIds[2]}`, headers: bearer(tokenFor(t.settings, outsider.userId)) });
      expect(res.statusCode).toBe(403);
      expect(await last(org.id)).toMatchObject({ action: 'access_denied', status_code: 403, patient_ids: [patientIds[2]], actor_id: outsider.userId, actor_role: null });
    });

    it('404 on a patient: recorded with the id asked for', async () => {
      const missing = '5d1e0c7a-9f7b-4a39-8a4e-1f2e3d4c5b6a';
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profile/${missing}`, headers: bearer(clinician) });
      expect(res.statusCode).toBe(404);
      expect(await last(org.id)).toMatchObject({ action: 'access_denied', outcome: 'denied', status_code: 404, patient_ids: [missing] });
    });

    it('an organization that does not exist: filed under the no-organization chain', async () => {
      const ghost = '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d';
      const res = await t.inject({ method: 'GET', url: `${base(ghost)}/profiles` });
      expect(res.statusCode).toBe(401);
      expect(await auditRows(t.db, ghost)).toHaveLength(0);
      expect(await last(NIL_ORG)).toMatchObject({ action: 'access_denied', status_code: 401, route: '/api/v1/audit-test/:organizationId/profiles' });
    });

    it('a 400 (bad path parameter) is recorded as a failure', async () => {
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profile/not-a-uuid`, headers: bearer(clinician) });
      expect(res.statusCode).toBe(400);
      expect(await last(org.id)).toMatchObject({ action: 'read', outcome: 'failure', status_code: 400, patient_ids: [] });
    });
  });

  describe('writes', () => {
    let writer: string;
    beforeAll(async () => {
      writer = await memberToken(t, org.id, Role.Admin);
    });

    it('a route that writes records its own event in the same transaction, once', async () => {
      const before = (await auditRows(t.db, org.id)).length;
      const res = await t.inject({ method: 'POST', url: `${base(org.id)}/profile/${patientIds[0]}/name`, headers: bearer(writer), payload: { name: 'Ada King' } });
      expect(res.statusCode).toBe(201);
      const rows = (await auditRows(t.db, org.id)).slice(before);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'update', outcome: 'success', status_code: 201, patient_ids: [patientIds[0]] });
    });

    it('when the change rolls back, its event rolls back with it and the failure is recorded instead', async () => {
      const before = (await auditRows(t.db, org.id)).length;
      const res = await t.inject({ method: 'POST', url: `${base(org.id)}/profile/${patientIds[1]}/name`, headers: bearer(writer), payload: { name: 'X', fail: true } });
      expect(res.statusCode).toBe(400);
      const rows = (await auditRows(t.db, org.id)).slice(before);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'update', outcome: 'failure', status_code: 400, patient_ids: [patientIds[1]] });
      expect((await t.db.query(`SELECT name FROM patients WHERE id = $1`, [patientIds[1]]))[0].name).toBe('Grace Hopper');
    });
  });

  it('audit rows hold no PHI: no name, email or search text anywhere in them', async () => {
    await t.inject({ method: 'GET', url: `${base(org.id)}/profiles?search=Grace%20Hopper&email=ada%40example.test`, headers: bearer(clinician) });
    const rows = await t.db.query(`SELECT row_to_json(a)::text AS j FROM audit_events a`);
    expect(rows.length).toBeGreaterThan(10);
    const text = rows.map((r) => String(r.j)).join('\n');
    for (const phi of [...names, 'Ada King', 'Grace', 'Hopper', 'ada@example.test', 'ada%40example', 'v1:cipher']) expect(text).not.toContain(phi);
  });

  describe('when the trail cannot be written', () => {
    const revoke = (): Promise<unknown> => t.db.query(`REVOKE EXECUTE ON FUNCTION audit_append, audit_append_batch FROM patient_journey_app`);
    const grant = (): Promise<unknown> => t.db.query(`GRANT EXECUTE ON FUNCTION audit_append, audit_append_batch TO patient_journey_app`);
    afterEach(grant);

    it('a read fails with 503 problem+json and carries no patient data', async () => {
      await revoke();
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profiles`, headers: bearer(clinician) });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 503, type: expect.stringContaining('/audit-unavailable') });
      for (const id of patientIds) expect(res.body).not.toContain(id);
      for (const n of names) expect(res.body).not.toContain(n);
    });

    it('a cache hit fails the same way', async () => {
      await t.inject({ method: 'GET', url: `${base(org.id)}/cached-profiles?limit=5`, headers: bearer(clinician) });
      await revoke();
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/cached-profiles?limit=5`, headers: bearer(clinician) });
      expect(res.statusCode).toBe(503);
      expect(res.body).not.toContain(patientIds[0]);
    });

    it('a write rolls back and answers 503', async () => {
      const writer = await memberToken(t, org.id, Role.Admin);
      await revoke();
      const res = await t.inject({ method: 'POST', url: `${base(org.id)}/profile/${patientIds[2]}/name`, headers: bearer(writer), payload: { name: 'Changed' } });
      expect(res.statusCode).toBe(503);
      expect((await t.db.query(`SELECT name FROM patients WHERE id = $1`, [patientIds[2]]))[0].name).toBe('Alan Turing');
    });

    it('a denied attempt answers 503 too', async () => {
      await revoke();
      const res = await t.inject({ method: 'GET', url: `${base(org.id)}/profiles` });
      expect(res.statusCode).toBe(503);
      expect(res.json().type).toContain('/audit-unavailable');
    });
  });

  describe('append-only', () => {
    it('the app role can neither insert directly nor update, delete or truncate', async () => {
      for (const sql of [
        `UPDATE audit_events SET ip = 'x'`,
        `DELETE FROM audit_events`,
        `TRUNCATE audit_events`,
        `INSERT INTO audit_events SELECT * FROM audit_events LIMIT 1`,
        `UPDATE audit_chain_heads SET last_seq = 0`,
      ]) {
        await expect(t.db.query(`DO $$ BEGIN SET LOCAL ROLE patient_journey_app; EXECUTE $q$${sql}$q$; END $$`)).rejects.toThrow(/permission denied/);
      }
      const partition = (await t.db.query<{ p: string }>(`SELECT tableoid::regclass::text AS p FROM audit_events LIMIT 1`))[0].p;
      await expect(t.db.query(`DO $$ BEGIN SET LOCAL ROLE patient_journey_app; EXECUTE 'DELETE FROM ${partition}'; END $$`)).rejects.toThrow(/permission denied/);
    });

    it('a trigger refuses UPDATE, DELETE and TRUNCATE even to the owner', async () => {
      await expect(t.db.query(`UPDATE audit_events SET ip = 'x'`)).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(t.db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only: DELETE refused/);
      await expect(t.db.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only: TRUNCATE refused/);
      const partition = (await t.db.query<{ p: string }>(`SELECT tableoid::regclass::text AS p FROM audit_events LIMIT 1`))[0].p;
      await expect(t.db.query(`TRUNCATE ${partition}`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    });
  });

  it('creates the monthly partitions ahead for the clock at start', async () => {
    const rows = await t.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_events'::regclass ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['audit_events_2026_11', 'audit_events_2026_12', 'audit_events_2027_01', 'audit_events_2027_02', 'audit_events_default']));
    // An event of its own (whatever ran before): written at the clock's time, in its month's partition.
    expect((await t.inject({ method: 'GET', url: `${base(org.id)}/profiles`, headers: bearer(clinician) })).statusCode).toBe(200);
    const placed = await t.db.query<{ p: string; n: string }>(`SELECT tableoid::regclass::text AS p, count(*) AS n FROM audit_events GROUP BY 1`);
    expect(placed.map((r) => r.p)).toEqual(['audit_events_2026_11']);
  });
});
