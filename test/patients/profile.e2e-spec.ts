import { Role } from 'src/organizations/organizations.enums';
import { ScoringService } from 'src/scoring/scoring.service';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { expectContract } from 'test/utils/contract';
import { createAppointment, createPatient, upsertMetrics } from 'test/utils/factories';
import type { ProfileResponse } from '@patient-journey/sdk';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';

const DAY = 86_400_000;
const daysAgo = (d: number): Date => new Date(TEST_NOW.getTime() - d * DAY);

describe('GET /patients/:organizationId/profile/:patientId', () => {
  let t: TestApp;
  let orgId: string;
  let clinician: string;
  let frontDesk: string;
  let patientId: string;

  beforeAll(async () => {
    t = await createTestApp();
    orgId = (await createOrganization(t.db)).id;
    clinician = await memberToken(t, orgId, Role.Clinician);
    frontDesk = await memberToken(t, orgId, Role.FrontDesk);
    patientId = await createPatient(t.db, t.settings, orgId, {
      name: 'Grace Hopper',
      phone: '+15550123',
      email: 'grace@example.test',
      dateOfBirth: '1906-12-09',
      address: { street: '1 Navy Way', city: 'Arlington', state: 'VA', zip: '22202' },
      conditions: ['asthma'],
      allergies: ['penicillin'],
      medications: ['salbutamol'],
      preferredChannel: 'sms',
      marketingConsent: true,
    });
    for (let i = 1; i <= 6; i++) {
      await createAppointment(t.db, t.settings, orgId, patientId, { startsAt: daysAgo(i * 20), type: `visit-${i}`, valueCents: 10_000 + i, notes: i === 1 ? 'Follow-up in a month' : null });
    }
    await createAppointment(t.db, t.settings, orgId, patientId, { startsAt: new Date(TEST_NOW.getTime() + 5 * DAY), status: 'scheduled', type: 'upcoming' });
    await upsertMetrics(t.db, orgId, patientId, {
      status: 'active',
      riskScore: 42.5,
      riskLevel: 'medium',
      riskFactors: [{ code: 'overdue_visit', text: 'No visit for 20 days; usually every 20 days', points: 12 }],
      ltvCents: 123_456,
      totalSessions: 6,
      avgSessionValueCents: 10_003,
      lastAppointmentAt: daysAgo(20),
      nextAppointmentAt: new Date(TEST_NOW.getTime() + 5 * DAY),
      computedAt: new Date('2026-11-24T03:00:00Z'),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const get = async (id: string, tok: string, query = ''): Promise<{ status: number; body: any }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profile/${id}${query}`, headers: bearer(tok) });
    return { status: res.statusCode, body: res.json() };
  };

  /** The happy path, through the SDK (`getPatientProfile`). */
  const read = async (id: string, tok: string, history_limit?: number): Promise<{ status: number; body: ProfileResponse }> => {
    const api = await sdkClient(t, tok);
    const { data, response } = await api.GET('/api/v1/patients/{organizationId}/profile/{patientId}', {
      params: { path: { organizationId: orgId, patientId: id }, query: { history_limit } },
    });
    return { status: response.status, body: data! };
  };

  it('forbids any cache to store the profile (Cache-Control: no-store)', async () => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profile/${patientId}`, headers: bearer(clinician) });
    expect([res.statusCode, res.headers['cache-control']]).toEqual([200, 'no-store']);
  });

  it('answers the full profile, decrypted, per the contract', async () => {
    const { status, body } = await read(patientId, clinician);
    expect(status).toBe(200);
    expectContract('profile.schema.json', body);
    const p = body.patient;
    expect(p).toMatchObject({
      id: patientId,
      name: 'Grace Hopper',
      phone: '+15550123',
      email: 'grace@example.test',
      date_of_birth: '1906-12-09',
      address: { street: '1 Navy Way', city: 'Arlington', state: 'VA', zip: '22202' },
      medical_info: { conditions: ['asthma'], allergies: ['penicillin'], medications: ['salbutamol'] },
      communication_preferences: { preferred_channel: 'sms', marketing_consent: true, appointment_reminders: true },
      risk_assessment: { risk_score: 42.5, risk_level: 'medium', risk_factors: ['No visit for 20 days; usually every 20 days'], last_assessed: '2026-11-24T03:00:00.000Z' },
    });
    expect(p.engagement_metrics).toMatchObject({ ltv: 1234.56, total_sessions: 6, avg_session_value: 100.03, last_appointment: daysAgo(20).toISOString() });
  });

  it('appointment_history: started appointments only, newest first, history_limit honoured', async () => {
    const { body } = await read(patientId, clinician);
    const h = body.patient.engagement_metrics.appointment_history;
    expect(h.map((a: { type: string }) => a.type)).toEqual(['visit-1', 'visit-2', 'visit-3', 'visit-4', 'visit-5', 'visit-6']);
    expect(h[0]).toMatchObject({ date: daysAgo(20).toISOString(), value: 100.01, notes: 'Follow-up in a month', status: 'completed' });
    expect(h[1].notes).toBeNull();
    const limited = await read(patientId, clinician, 2);
    expect(limited.body.patient.engagement_metrics.appointment_history.map((a: { type: string }) => a.type)).toEqual(['visit-1', 'visit-2']);
  });

  it('medical_info is null without patients:read_medical', async () => {
    const { status, body } = await read(patientId, frontDesk);
    expect(status).toBe(200);
    expectContract('profile.schema.json', body);
    expect(body.patient.medical_info).toBeNull();
    expect(JSON.stringify(body)).not.toContain('penicillin');
  });

  it('shows the same ltv, risk score, sessions and appointments as the list', async () => {
    const api = await sdkClient(t, frontDesk);
    const list = await api.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: orgId } } });
    const item = list.data!.patients.find((p) => p.id === patientId)!;
    const { body } = await read(patientId, frontDesk);
    const m = body.patient.engagement_metrics;
    expect([m.ltv, m.total_sessions, m.last_appointment, m.next_appointment, body.patient.risk_assessment.risk_score]).toEqual([
      item.ltv,
      item.total_sessions,
      item.last_appointment,
      item.next_appointment,
      item.risk_score,
    ]);
  });

  it('missing data and no metrics row: documented defaults, never an error', async () => {
    const bare = await createPatient(t.db, t.settings, orgId, { name: 'No Data', phone: null, email: null, dateOfBirth: null, address: null, conditions: null, allergies: null, medications: null });
    const { status, body } = await read(bare, clinician);
    expect(status).toBe(200);
    expectContract('profile.schema.json', body);
    expect(body.patient).toMatchObject({
      phone: null,
      email: null,
      date_of_birth: null,
      address: null,
      medical_info: { conditions: [], allergies: [], medications: [] },
      engagement_metrics: { ltv: 0, total_sessions: 0, avg_session_value: 0, last_appointment: null, next_appointment: null, appointment_history: [] },
      risk_assessment: { risk_score: 0, risk_level: 'low', risk_factors: [] },
    });
  });

  it('404 for an unknown id, a deleted patient and another organization\'s patient; 400 for a non-UUID', async () => {
    expect((await get('7d3c2a4e-1b2f-4c3d-8e9f-0a1b2c3d4e5f', clinician)).status).toBe(404);
    const otherOrg = (await createOrganization(t.db)).id;
    const foreign = await createPatient(t.db, t.settings, otherOrg, { name: 'Someone Else' });
    const res = await get(foreign, clinician);
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/patient-not-found$/);
    const gone = await createPatient(t.db, t.settings, orgId, { name: 'Gone Away', deletedAt: daysAgo(1) });
    expect((await get(gone, clinician)).status).toBe(404);
    const bad = await get('not-a-uuid', clinician);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('patientId');
    expect((await get(patientId, clinician, '?history_limit=501')).status).toBe(400);
  });

  it('analysts get 403; another organization\'s member gets 403', async () => {
    expect((await get(patientId, await memberToken(t, orgId, Role.Analyst))).status).toBe(403);
    const otherOrg = (await createOrganization(t.db)).id;
    expect((await get(patientId, await memberToken(t, otherOrg, Role.Owner))).status).toBe(403);
  });

  it('status classification by the scoring engine is what the list shows (30/90-day rules, upcoming appointment)', async () => {
    const org2 = (await createOrganization(t.db)).id;
    const tok = await memberToken(t, org2, Role.Admin);
    const make = async (name: string, lastVisitDaysAgo: number | null, upcoming = false): Promise<string> => {
      const id = await createPatient(t.db, t.settings, org2, { name, registeredAt: daysAgo(400) });
      if (lastVisitDaysAgo !== null) await createAppointment(t.db, t.settings, org2, id, { startsAt: daysAgo(lastVisitDaysAgo), valueCents: 5000 });
      if (upcoming) await createAppointment(t.db, t.settings, org2, id, { startsAt: new Date(TEST_NOW.getTime() + 3 * DAY), status: 'scheduled' });
      return id;
    };
    const recent = await make('Recent Visit', 10);
    const dormant = await make('Dormant Visit', 60);
    const lapsed = await make('Lapsed Visit', 200);
    const booked = await make('Booked Again', 200, true);
    await t.app.get(ScoringService).recomputePatients(org2, [recent, dormant, lapsed, booked]);
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org2}/profiles`, headers: bearer(tok) });
    const byName = Object.fromEntries(res.json().patients.map((p: { name: string; status: string }) => [p.name, p.status]));
    expect(byName).toEqual({ 'Recent Visit': 'active', 'Dormant Visit': 'dormant', 'Lapsed Visit': 'at_risk', 'Booked Again': 'active' });
    expect(res.json().summary).toEqual({ total_patients: 4, active_patients: 2, dormant_patients: 1, at_risk_patients: 1 });
    const active = await t.inject({ method: 'GET', url: `/api/v1/patients/${org2}/profiles?status=active`, headers: bearer(tok) });
    expect(active.json().total_count).toBe(2);
  });
});
