import { PhiCipher } from 'src/records/phi/phi-cipher';
import { ConsentExpirySweep } from 'src/consent/consent-expiry.sweep';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { createHandmadeClinic, HandmadeClinic } from 'test/journey/support/handmade-clinic';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';

interface Decision {
  id: string;
  purpose: string;
  channel: string | null;
  decision: string;
  recorded_at: string;
  source: string;
  recorded_by: string;
  expires_at: string | null;
  evidence: string | null;
}
interface Effective {
  purpose: string;
  channel: string | null;
  granted: boolean;
  state: string;
}
interface Consents {
  patient_id: string;
  effective: Effective[];
  history: Decision[];
}

describe('consent decisions: /api/v1/patients/:organizationId/profile/:patientId/consents', () => {
  let t: TestApp;
  let clinic: HandmadeClinic;
  let admin: string;
  let marketing: string;

  beforeAll(async () => {
    t = await createTestApp();
    const cipher = t.app.get(PhiCipher);
    clinic = await createHandmadeClinic(t.db, (s) => cipher.encrypt(s) as string);
    admin = await memberToken(t, clinic.organizationId, 'admin');
    marketing = await memberToken(t, clinic.organizationId, 'marketing');
  });
  afterAll(() => t?.close());

  const path = (patientId: string): string => `/api/v1/patients/${clinic.organizationId}/profile/${patientId}/consents`;
  const consents = async (patientId: string): Promise<Consents> => {
    const res = await t.inject({ method: 'GET', url: path(patientId), headers: bearer(marketing) });
    expect(res.statusCode).toBe(200);
    return res.json<Consents>();
  };
  const post = (patientId: string, body: Record<string, unknown>, token = admin) =>
    t.inject({ method: 'POST', url: path(patientId), headers: bearer(token), payload: body });
  const opportunities = async (): Promise<{ patient_id: string; suggested_action: string }[]> => {
    const res = await t.inject({
      method: 'GET',
      url: `/api/v1/patients/${clinic.organizationId}/opportunities?limit=100`,
      headers: bearer(marketing),
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ opportunities: { patient_id: string; suggested_action: string }[] }>().opportunities;
  };
  const profile = async (patientId: string): Promise<{ marketing_consent: boolean; appointment_reminders: boolean }> => {
    const res = await t.inject({
      method: 'GET',
      url: `/api/v1/patients/${clinic.organizationId}/profile/${patientId}`,
      headers: bearer(admin),
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ patient: { communication_preferences: { marketing_consent: boolean; appointment_reminders: boolean } } }>().patient
      .communication_preferences;
  };
  const effective = (c: Consents, purpose: string, channel: string | null): Effective | undefined =>
    c.effective.find((e) => e.purpose === purpose && e.channel === channel);

  it('shows the former flags as decisions of source migration, and the effective state per purpose and channel', async () => {
    const c = await consents(clinic.ids.hana);
    expect(c.patient_id).toBe(clinic.ids.hana);
    expect(c.history.map((d) => [d.purpose, d.channel, d.decision, d.source, d.recorded_by]).sort()).toEqual([
      ['appointment_reminders', null, 'granted', 'migration', 'migration'],
      ['marketing', null, 'granted', 'migration', 'migration'],
    ]);
    expect(c.effective).toHaveLength(11);
    expect(
      c.effective
        .filter((e) => e.granted)
        .map((e) => `${e.purpose}:${e.channel}`)
        .sort(),
    ).toEqual([
      'appointment_reminders:email',
      'appointment_reminders:phone',
      'appointment_reminders:sms',
      'appointment_reminders:whatsapp',
      'marketing:email',
      'marketing:phone',
      'marketing:sms',
      'marketing:whatsapp',
    ]);
    expect(effective(c, 'analytics', null)).toMatchObject({ granted: false, state: 'not_recorded' });
    // Ivan never consented to marketing: denied, by migration.
    expect(effective(await consents(clinic.ids.ivan), 'marketing', 'email')).toMatchObject({ granted: false, state: 'denied' });
  });

  it("withdrawing marketing consent removes the marketing action from the patient's opportunities at once; the history shows both decisions", async () => {
    const before = await opportunities();
    const hanaBefore = before.find((o) => o.patient_id === clinic.ids.hana);
    expect(hanaBefore?.suggested_action).toMatch(/^Call the patient personally .*offer a priority appointment/);

    const res = await post(clinic.ids.hana, { purpose: 'marketing', decision: 'withdrawn', evidence: 'Asked at the desk to stop offers.' });
    expect(res.statusCode).toBe(201);
    const body = res.json<Consents>();
    expect(body.history.map((d) => [d.purpose, d.decision, d.source])).toEqual([
      ['marketing', 'withdrawn', 'front_desk'],
      ...body.history.slice(1).map((d) => [d.purpose, d.decision, d.source]),
    ]);
    expect(body.history.filter((d) => d.purpose === 'marketing').map((d) => d.decision)).toEqual(['withdrawn', 'granted']);
    expect(body.history[0].evidence).toBe('Asked at the desk to stop offers.');
    expect(body.history[0].recorded_by).toMatch(/^user:[0-9a-f-]{36}$/);
    expect(effective(body, 'marketing', 'phone')).toMatchObject({ granted: false, state: 'withdrawn' });

    // The contract's flags follow the decisions.
    expect(await profile(clinic.ids.hana)).toMatchObject({ marketing_consent: false, appointment_reminders: true });

    // The opportunity snapshot is updated in the request's aftermath: no offer any more, a reminder (still consented).
    const after = await eventually(
      () => opportunities(),
      (rows) => !/offer a priority/.test(rows.find((o) => o.patient_id === clinic.ids.hana)?.suggested_action ?? 'offer a priority'),
      { what: "Hana's opportunity without the marketing action" },
    );
    const hana = after.find((o) => o.patient_id === clinic.ids.hana);
    expect(hana?.suggested_action).toBe('Send a recall reminder by phone with a link to book the overdue visit');
    expect(
      after.every(
        (o) =>
          o.patient_id === clinic.ids.hana ||
          before.some((b) => b.patient_id === o.patient_id && b.suggested_action === o.suggested_action),
      ),
    ).toBe(true);

    // The evidence is PHI: encrypted at rest.
    const [raw] = await t.db.query<{ evidence_enc: string }>(
      `SELECT evidence_enc FROM consent_decisions WHERE patient_id = $1 AND origin = 'front_desk'`,
      [clinic.ids.hana],
    );
    expect(raw.evidence_enc).toMatch(/^p1:/);
    expect(raw.evidence_enc).not.toContain('stop offers');
  });

  it('a grant on one channel: offers go by that channel only, and the suggested action says why not the preferred one', async () => {
    const res = await post(clinic.ids.dora, { purpose: 'marketing', decision: 'withdrawn' });
    expect(res.statusCode).toBe(201);
    const grant = await post(clinic.ids.dora, { purpose: 'marketing', channel: 'sms', decision: 'granted', source: 'web_form' });
    expect(grant.statusCode).toBe(201);
    const c = grant.json<Consents>();
    expect(c.effective.filter((e) => e.purpose === 'marketing' && e.granted).map((e) => e.channel)).toEqual(['sms']);
    const rows = await eventually(
      () => opportunities(),
      (r) => /^Text the patient/.test(r.find((o) => o.patient_id === clinic.ids.dora)?.suggested_action ?? ''),
      { what: "Dora's offer by SMS" },
    );
    expect(rows.find((o) => o.patient_id === clinic.ids.dora)?.suggested_action).toBe(
      'Text the patient to offer a check-up appointment at a time of their choice (not by email, the preferred channel: no consent to marketing there)',
    );
  });

  it('an expired grant stops counting when the sweep runs', async () => {
    const res = await post(clinic.ids.finn, { purpose: 'analytics', decision: 'granted', expires_at: '2026-11-30T00:00:00Z' });
    expect(res.statusCode).toBe(201);
    expect(effective(res.json<Consents>(), 'analytics', null)).toMatchObject({
      granted: true,
      state: 'granted',
      expires_at: '2026-11-30T00:00:00.000Z',
    });
    const grants = async (): Promise<string[]> =>
      (await t.db.query<{ g: string[] }>(`SELECT consent_grants AS g FROM patients WHERE id = $1`, [clinic.ids.finn]))[0].g;
    expect(await grants()).toContain('analytics');
    const sweep = t.app.get(ConsentExpirySweep);
    // The tick's fan-out: one cross-tenant statement (as the runtime role) names only the organizations with a review
    // due, and nothing else of them.
    const due = (at: string): Promise<string[]> => t.app.get(OrganizationsRepository).withConsentReviewsDue(t.app.get(CrossTenantDb), new Date(at));
    expect(await due('2026-11-29T00:00:00Z')).toEqual([]);
    expect(await due('2026-12-01T00:00:00Z')).toEqual([clinic.organizationId]);
    expect(await sweep.sweep(new Date('2026-11-29T00:00:00Z'))).toBe(0);
    expect(await sweep.sweep(new Date('2026-12-01T00:00:00Z'))).toBe(1);
    expect(await due('2026-12-01T00:00:00Z')).toEqual([]);
    expect(await grants()).not.toContain('analytics');
    expect(await sweep.sweep(new Date('2026-12-01T00:00:00Z'))).toBe(0);
  });

  it('refuses bad input with a 400 naming the field, an unknown patient with 404, and writes nothing', async () => {
    const count = async (): Promise<number> =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM consent_decisions WHERE patient_id = $1`, [clinic.ids.tom]))[0].n;
    const before = await count();
    const cases: [Record<string, unknown>, string][] = [
      [{ purpose: 'spam', decision: 'granted' }, 'purpose'],
      [{ purpose: 'marketing', decision: 'maybe' }, 'decision'],
      [{ purpose: 'analytics', channel: 'sms', decision: 'granted' }, 'channel'],
      [{ purpose: 'marketing', decision: 'granted', source: 'migration' }, 'source'],
      [
        { purpose: 'marketing', decision: 'granted', recorded_at: '2026-11-20T00:00:00Z', expires_at: '2026-11-01T00:00:00Z' },
        'expires_at',
      ],
      [{ purpose: 'marketing', decision: 'granted', recorded_at: '2027-01-01T00:00:00Z' }, 'recorded_at'],
      [{ purpose: 'marketing', decision: 'granted', evidence: 'x'.repeat(2001) }, 'evidence'],
    ];
    for (const [body, field] of cases) {
      const res = await post(clinic.ids.tom, body);
      expect([res.statusCode, res.headers['content-type']]).toEqual([400, expect.stringContaining('application/problem+json')]);
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    expect(cases).toHaveLength(7);
    expect(await count()).toBe(before);
    const missing = await post('00000000-0000-4000-8000-000000000000', { purpose: 'marketing', decision: 'granted' });
    expect([missing.statusCode, missing.json<{ type: string }>().type]).toEqual([404, expect.stringContaining('patient-not-found')]);
    expect((await t.inject({ method: 'GET', url: path('00000000-0000-4000-8000-000000000000'), headers: bearer(admin) })).statusCode).toBe(
      404,
    );
    // The marketing role reads consent but may not record it.
    expect((await post(clinic.ids.tom, { purpose: 'marketing', decision: 'granted' }, marketing)).statusCode).toBe(403);
  });

  it("ingestion: consent records are idempotent and never changed; a patient record's flags become decisions", async () => {
    const ingest = async (records: Record<string, unknown>[]) => {
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/ingest/${clinic.organizationId}/records`,
        headers: bearer(admin),
        payload: { records },
      });
      expect(res.statusCode).toBe(200);
      return res.json<{ results: { status: string; errors?: { field: string; message: string }[] }[] }>().results;
    };
    const patient = { record_type: 'patient', source: 'ehr', external_id: 'pat-c1', name: 'Carla Consent', marketing_consent: true };
    const consent = {
      record_type: 'consent',
      source: 'ehr',
      external_id: 'cons-1',
      patient_external_id: 'pat-c1',
      purpose: 'research',
      decision: 'granted',
      recorded_at: '2026-11-01T10:00:00Z',
      consent_source: 'ehr_import',
      evidence: 'Signed form R-12',
    };
    expect((await ingest([patient, consent])).map((r) => r.status)).toEqual(['created', 'created']);
    expect((await ingest([patient, consent])).map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    const changed = await ingest([{ ...consent, decision: 'withdrawn' }]);
    expect(changed[0]).toMatchObject({
      status: 'rejected',
      errors: [{ field: 'external_id', message: expect.stringContaining('never changed') }],
    });
    const [{ id }] = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE external_id = 'pat-c1'`);
    let c = await consents(id);
    expect(c.history.map((d) => [d.purpose, d.decision, d.source]).sort()).toEqual([
      ['appointment_reminders', 'granted', 'ingestion'],
      ['marketing', 'granted', 'ingestion'],
      ['research', 'granted', 'ehr_import'],
    ]);
    // The flag sent again unchanged writes nothing; a change writes a withdrawal.
    expect((await ingest([{ ...patient, marketing_consent: false }])).map((r) => r.status)).toEqual(['updated']);
    c = await consents(id);
    expect(c.history.filter((d) => d.purpose === 'marketing').map((d) => d.decision)).toEqual(['withdrawn', 'granted']);
    expect(await profile(id)).toMatchObject({ marketing_consent: false, appointment_reminders: true });
    // Decisions are never updated, even by a query that tries (the trigger refuses it).
    await expect(t.db.query(`UPDATE consent_decisions SET decision = 'granted' WHERE patient_id = $1`, [id])).rejects.toThrow(
      /never updated/,
    );
  });
});
