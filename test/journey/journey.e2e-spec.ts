import { PhiCipher } from 'src/records/phi/phi-cipher';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import type { JourneyResponse } from '@patient-journey/sdk';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { contractErrors } from 'test/utils/contract';
import { createHandmadeClinic, HandmadeClinic } from 'test/journey/support/handmade-clinic';

const T = (d: string): string => `${d}T10:00:00.000Z`;

describe('GET /api/v1/patients/:organizationId/journey/:patientId', () => {
  let t: TestApp;
  let clinic: HandmadeClinic;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    const cipher = t.app.get(PhiCipher);
    clinic = await createHandmadeClinic(t.db, (s) => cipher.encrypt(s) as string);
    token = await memberToken(t, clinic.organizationId, 'front_desk');
  });
  afterAll(() => t?.close());

  const get = (patientId: string, query = '', tok = token) =>
    t.inject({ method: 'GET', url: `/api/v1/patients/${clinic.organizationId}/journey/${patientId}${query}`, headers: bearer(tok) });

  /** The happy path, through the SDK (`getPatientJourney`). */
  const read = async (patientId: string, touchpoint_limit?: number): Promise<{ status: number; body: JourneyResponse }> => {
    const api = await sdkClient(t, token);
    const { data, response } = await api.GET('/api/v1/patients/{organizationId}/journey/{patientId}', {
      params: { path: { organizationId: clinic.organizationId, patientId }, query: { touchpoint_limit } },
    });
    return { status: response.status, body: data! };
  };

  const journeyOf = async (key: keyof HandmadeClinic['ids']): Promise<JourneyResponse['journey']> => {
    const { status, body } = await read(clinic.ids[key]);
    expect(status).toBe(200);
    expect(contractErrors('journey.schema.json', body)).toEqual([]);
    return body.journey;
  };

  it('a patient in active care: stages, automation state and touchpoints newest first', async () => {
    const j = await journeyOf('ada');
    expect(j).toEqual({
      patient_id: clinic.ids.ada,
      current_stage: 'active_care',
      journey_start: T('2026-08-01'),
      stages_completed: [
        { stage: 'new_lead', completed_at: T('2026-08-20'), outcome: 'first visit completed' },
        { stage: 'first_visit', completed_at: T('2026-09-20'), outcome: 'returned for a second visit' },
      ],
      automation_state: {
        current_sequence: 'post-visit care',
        current_step: 'feedback survey',
        progress: 50,
        next_action: 'send satisfaction survey',
        next_action_date: '2026-11-26T09:00:00.000Z',
      },
      touchpoints: [
        { type: 'call', timestamp: '2026-11-21T15:00:00.000Z', outcome: 'booked', notes: 'asked about parking' },
        { type: 'message', timestamp: '2026-11-20T09:00:00.000Z', outcome: 'responded', notes: null },
        { type: 'appointment', timestamp: T('2026-11-19'), outcome: 'completed', notes: 'cleaning went well' },
        { type: 'appointment', timestamp: T('2026-10-20'), outcome: 'completed', notes: null },
        { type: 'appointment', timestamp: T('2026-09-20'), outcome: 'completed', notes: null },
        { type: 'appointment', timestamp: T('2026-08-20'), outcome: 'completed', notes: null },
      ],
    });
  });

  it('every stage of the model, known in advance', async () => {
    const lena = await journeyOf('lena');
    expect([lena.current_stage, lena.stages_completed, lena.automation_state]).toEqual(['new_lead', [], null]);
    expect(lena.touchpoints).toEqual([{ type: 'appointment', timestamp: T('2026-11-05'), outcome: 'no_show', notes: null }]);

    expect((await journeyOf('finn')).current_stage).toBe('first_visit');

    const max = await journeyOf('max');
    expect(max.current_stage).toBe('maintenance');
    expect(max.stages_completed).toEqual([
      { stage: 'new_lead', completed_at: T('2026-03-01'), outcome: 'first visit completed' },
      { stage: 'first_visit', completed_at: T('2026-03-15'), outcome: 'returned for a second visit' },
      { stage: 'active_care', completed_at: T('2026-03-15'), outcome: 'treatment plan completed' },
    ]);

    const lars = await journeyOf('lars');
    expect(lars.current_stage).toBe('lapsed');
    expect(lars.stages_completed[2]).toEqual({ stage: 'active_care', completed_at: T('2026-05-06'), outcome: 'no visit for 90 days' });

    const rita = await journeyOf('rita');
    expect(rita.current_stage).toBe('reactivated');
    expect(rita.stages_completed).toEqual([
      { stage: 'new_lead', completed_at: T('2026-03-01'), outcome: 'first visit completed' },
      { stage: 'first_visit', completed_at: T('2026-04-15'), outcome: 'marked lapsed by CRM' },
      { stage: 'lapsed', completed_at: T('2026-11-15'), outcome: 'returned after 259 days' },
    ]);
  });

  it('touchpoint_limit caps the touchpoints, newest kept', async () => {
    const res = await read(clinic.ids.ada, 2);
    expect(res.status).toBe(200);
    expect(res.body.journey.touchpoints.map((x) => x.type)).toEqual(['call', 'message']);
    expect((await read(clinic.ids.ada, 500)).body.journey.touchpoints).toHaveLength(6);
  });

  it('answers 404 for an unknown, deleted or other organization patient', async () => {
    const other = await createOrganization(t.db);
    const [p] = await t.db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', 'x1', 'Other Org') RETURNING id`,
      [other.id],
    );
    for (const id of ['00000000-0000-4000-8000-000000000000', clinic.ids.gail, p.id]) {
      const res = await get(id);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().type).toMatch(/patient-not-found$/);
    }
  });

  it('refuses bad input with 400 problems naming the field', async () => {
    for (const [path, field] of [
      ['not-a-uuid', 'patientId'],
      [`${clinic.ids.ada}?touchpoint_limit=0`, 'touchpoint_limit'],
      [`${clinic.ids.ada}?touchpoint_limit=501`, 'touchpoint_limit'],
      [`${clinic.ids.ada}?touchpoint_limit=abc`, 'touchpoint_limit'],
      [`${clinic.ids.ada}?foo=1`, 'foo'],
    ]) {
      const res = await get(path);
      expect(res.statusCode).toBe(400);
      expect(contractErrors('common.schema.json#/$defs/problem', res.json())).toEqual([]);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('needs journey:read', async () => {
    const analyst = await memberToken(t, clinic.organizationId, 'analyst');
    expect((await get(clinic.ids.ada, '', analyst)).statusCode).toBe(403);
  });
});
