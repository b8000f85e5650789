import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

interface Result {
  index: number;
  record_type: string | null;
  external_id: string | null;
  status: string;
  id?: string;
  errors?: { field: string; message: string }[];
}
interface Body {
  results: Result[];
  summary: Record<string, number>;
}

const SRC = 'ehr';
const patient = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  record_type: 'patient',
  source: SRC,
  external_id: id,
  name: `Patient ${id}`,
  email: `${id}@example.com`,
  phone: '+1 503 555 0142',
  date_of_birth: '1984-03-09',
  address: { street: '12 Harbor Street', city: 'Portland', state: 'OR', zip: '97201' },
  conditions: ['Asthma'],
  ...extra,
});
const appointment = (id: string, patientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  record_type: 'appointment',
  source: SRC,
  external_id: id,
  patient_external_id: patientId,
  starts_at: '2026-11-20T09:30:00Z',
  type: 'Physiotherapy session',
  status: 'completed',
  value: 125.5,
  notes: 'Range of motion improved',
  ...extra,
});

describe('POST /api/v1/ingest/:organizationId/records', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  const post = (records: unknown, headers: Record<string, string> = {}): ReturnType<TestApp['inject']> =>
    t.inject({ method: 'POST', url: `/api/v1/ingest/${org}/records`, headers: { ...bearer(token), ...headers }, payload: { records } });

  beforeAll(async () => {
    t = await createTestApp();
  });
  // Each test on an organization of its own: none depends on the records another test sent.
  beforeEach(async () => {
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
  });
  afterAll(() => t.close());

  it('creates, then leaves unchanged, then updates; money in units is stored in cents; PHI is encrypted', async () => {
    const batch = [
      patient('p1'),
      appointment('a1', 'p1'),
      {
        record_type: 'payment',
        source: SRC,
        external_id: 'pay1',
        patient_external_id: 'p1',
        occurred_at: '2026-11-20T10:00:00+01:00',
        amount: 125.5,
        kind: 'payment',
        status: 'paid',
      },
      {
        record_type: 'communication',
        source: SRC,
        external_id: 'c1',
        patient_external_id: 'p1',
        occurred_at: '2026-11-19T09:00:00Z',
        channel: 'sms',
        kind: 'message',
        direction: 'outbound',
        responded_at: '2026-11-19T09:10:00Z',
        outcome: 'confirmed',
      },
      {
        record_type: 'survey_response',
        source: SRC,
        external_id: 's1',
        patient_external_id: 'p1',
        submitted_at: '2026-11-21T18:00:00Z',
        satisfaction: 4,
        nps: 9,
        comment: 'Friendly staff',
      },
      patient('p2', { referred_by_external_id: 'p1' }),
      {
        record_type: 'referral',
        source: SRC,
        external_id: 'r1',
        referrer_external_id: 'p1',
        referred_external_id: 'p2',
        referred_at: '2026-10-01T10:00:00Z',
      },
      {
        record_type: 'treatment_plan',
        source: SRC,
        external_id: 't1',
        patient_external_id: 'p1',
        name: 'Physio course',
        planned_sessions: 10,
        completed_sessions: 4,
        session_value: 95,
        status: 'active',
        started_at: '2026-10-01T09:00:00Z',
        ends_at: '2026-12-10T09:00:00Z',
      },
      {
        record_type: 'journey_event',
        source: SRC,
        external_id: 'j1',
        patient_external_id: 'p1',
        occurred_at: '2026-10-01T09:00:00Z',
        stage: 'treatment_started',
        details: { plan: 't1', nested: { a: 1 } },
      },
      {
        record_type: 'automation_enrollment',
        source: SRC,
        external_id: 'e1',
        patient_external_id: 'p1',
        sequence: 'reactivation',
        step: 'special_offer',
        step_index: 1,
        total_steps: 4,
        next_action: 'personal_call',
        next_action_at: '2026-11-28T15:00:00Z',
        status: 'active',
        enrolled_at: '2026-11-10T08:00:00Z',
      },
    ];
    const first = await post(batch);
    expect(first.statusCode).toBe(200);
    const body = first.json<Body>();
    expect(body.results.map((r) => r.status)).toEqual(Array(10).fill('created'));
    expect(body.summary).toEqual({ received: 10, created: 10, updated: 0, unchanged: 0, rejected: 0 });

    const [a] = await t.db.query<{ value_cents: number; notes_enc: string }>(
      `SELECT value_cents, notes_enc FROM appointments WHERE organization_id = $1 AND external_id = 'a1'`,
      [org],
    );
    expect(a.value_cents).toBe(12550);
    expect(a.notes_enc).toMatch(/^p1:/);
    const [pay] = await t.db.query<{ amount_cents: number; occurred_at: Date }>(
      `SELECT amount_cents, occurred_at FROM payments WHERE organization_id = $1 AND external_id = 'pay1'`,
      [org],
    );
    expect(pay.amount_cents).toBe(12550);
    expect(pay.occurred_at.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    const [raw] = await t.db.query<Record<string, unknown>>(`SELECT * FROM patients WHERE organization_id = $1 AND external_id = 'p1'`, [
      org,
    ]);
    const text = JSON.stringify(raw);
    // Whole values, or runs long enough not to turn up in base64 ciphertext or a hex blind index by chance: '555'
    // alone did (CI on 2026-11-25: "...9555okzl..." in address_enc).
    for (const plain of ['p1@example.com', '503 555 0142', '5035550142', '1984-03-09', 'Harbor Street', 'Asthma'])
      expect(text).not.toContain(plain);
    expect(raw.email_bidx).toMatch(/^[0-9a-f]{64}$/);
    const [p2] = await t.db.query<{ referred_by_id: string }>(
      `SELECT referred_by_id FROM patients WHERE organization_id = $1 AND external_id = 'p2'`,
      [org],
    );
    expect(p2.referred_by_id).toBe(raw.id);
    const metrics = await t.db.query<{ sort_name: string; stale: boolean }>(
      `SELECT sort_name, stale FROM patient_metrics WHERE organization_id = $1 ORDER BY sort_name`,
      [org],
    );
    expect(metrics.map((m) => m.sort_name)).toEqual(['patient p1', 'patient p2']);

    const again = await post(batch);
    expect(again.json<Body>().summary).toEqual({ received: 10, created: 0, updated: 0, unchanged: 10, rejected: 0 });
    const [{ n }] = await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM appointments WHERE organization_id = $1`, [org]);
    expect(Number(n)).toBe(1);

    const changed = await post([
      appointment('a1', 'p1', { status: 'no_show', value: 0 }),
      patient('p1', { conditions: ['Asthma', 'Migraine'] }),
      appointment('a2', 'p1'),
    ]);
    expect(changed.json<Body>().results.map((r) => [r.external_id, r.status])).toEqual([
      ['a1', 'updated'],
      ['p1', 'updated'],
      ['a2', 'created'],
    ]);
    const [a1] = await t.db.query<{ status: string; value_cents: number }>(
      `SELECT status, value_cents FROM appointments WHERE organization_id = $1 AND external_id = 'a1'`,
      [org],
    );
    expect(a1).toEqual({ status: 'no_show', value_cents: 0 });
  });

  it("keeps the list's contact ciphertext (phone and email in one value) with the phone and email it is sent", async () => {
    const listed = async (): Promise<{ phone: string | null; email: string | null }[]> => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profiles?sort=name`, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      return res.json<{ patients: { phone: string | null; email: string | null }[] }>().patients.map((p) => ({ phone: p.phone, email: p.email }));
    };
    const contactOf = async (): Promise<string | null> =>
      (await t.db.query<{ contact_enc: string | null }>(`SELECT contact_enc FROM patients WHERE organization_id = $1 AND external_id = 'p1'`, [org]))[0]
        .contact_enc;
    await post([patient('p1')]);
    const first = await contactOf();
    expect(first).toMatch(/^p1:/);
    expect(await listed()).toEqual([{ phone: '+1 503 555 0142', email: 'p1@example.com' }]);
    // Unchanged: not rewritten.
    expect((await post([patient('p1')])).json<Body>().results[0].status).toBe('unchanged');
    expect(await contactOf()).toBe(first);
    // A new email and no phone: the contact follows.
    expect((await post([patient('p1', { email: 'new@example.com', phone: null })])).json<Body>().results[0].status).toBe('updated');
    expect(await contactOf()).not.toBe(first);
    expect(await listed()).toEqual([{ phone: null, email: 'new@example.com' }]);
    // Neither: no contact ciphertext at all (nothing to decrypt).
    await post([patient('p1', { email: null, phone: null })]);
    expect(await contactOf()).toBeNull();
    expect(await listed()).toEqual([{ phone: null, email: null }]);
  });

  it('rejects bad records with reasons, writes nothing for them, and applies the valid ones', async () => {
    expect((await post([patient('p1')])).statusCode).toBe(200); // the patient the records below refer to
    const res = await post([
      { record_type: 'invoice', source: SRC, external_id: 'x1' },
      appointment('b1', 'p1', { value: 'a lot' }),
      appointment('b2', 'p1', { starts_at: '2026-02-30T10:00:00Z' }),
      {
        record_type: 'payment',
        source: SRC,
        external_id: 'b3',
        patient_external_id: 'p1',
        occurred_at: '2026-11-20T10:00:00Z',
        amount: -5,
        kind: 'payment',
        status: 'paid',
      },
      {
        record_type: 'survey_response',
        source: SRC,
        external_id: 'b4',
        patient_external_id: 'p1',
        submitted_at: '2026-11-21T18:00:00Z',
        satisfaction: 6,
      },
      appointment('b5', 'nobody'),
      appointment('dup', 'p1'),
      appointment('dup', 'p1', { type: 'Other' }),
      appointment('b6', 'p1', { type: 'x'.repeat(101) }),
      patient('b7', { unknown_field: 1 }),
      'not an object',
      appointment('ok1', 'p1'),
    ]);
    expect(res.statusCode).toBe(200);
    const results = res.json<Body>().results;
    const reason = (i: number): string => (results[i].errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    expect(results.map((r) => r.status)).toEqual([...Array(11).fill('rejected'), 'created']);
    expect(reason(0)).toMatch(/^record_type: must be one of patient, appointment/);
    expect(reason(1)).toMatch(/^value: must be a number/);
    expect(reason(2)).toMatch(/^starts_at: must be a real date/);
    expect(reason(3)).toBe('amount: must not be negative');
    expect(reason(4)).toBe('satisfaction: must be an integer from 1 to 5');
    expect(reason(5)).toMatch(/^patient_external_id: must be the external_id of a patient/);
    expect(reason(6)).toMatch(/^external_id: appears more than once in this batch/);
    expect(reason(7)).toMatch(/^external_id: appears more than once in this batch/);
    expect(reason(8)).toBe('type: must be at most 100 characters (got 101)');
    expect(reason(9)).toBe('unknown_field: is not a field of this record type');
    expect(reason(10)).toBe(': must be a JSON object');
    const stored = await t.db.query<{ external_id: string }>(`SELECT external_id FROM appointments WHERE organization_id = $1 ORDER BY 1`, [
      org,
    ]);
    expect(stored.map((r) => r.external_id)).toEqual(['ok1']);
    const [{ n }] = await t.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM patients WHERE organization_id = $1 AND external_id = 'b7'`,
      [org],
    );
    expect(Number(n)).toBe(0);
  });

  it('checks cross-field rules and keeps sources apart', async () => {
    expect((await post([patient('p1')])).statusCode).toBe(200); // the patient the records below refer to
    const res = await post([
      {
        record_type: 'communication',
        source: SRC,
        external_id: 'cx',
        patient_external_id: 'p1',
        occurred_at: '2026-11-19T09:00:00Z',
        channel: 'sms',
        kind: 'message',
        direction: 'outbound',
        responded_at: '2026-11-18T09:00:00Z',
      },
      {
        record_type: 'automation_enrollment',
        source: SRC,
        external_id: 'ex',
        patient_external_id: 'p1',
        sequence: 's',
        step: 'x',
        step_index: 4,
        total_steps: 4,
        status: 'active',
        enrolled_at: '2026-11-10T08:00:00Z',
      },
      patient('future', { date_of_birth: '2030-01-01' }),
      appointment('other-source', 'p1', { source: 'billing' }),
    ]);
    const results = res.json<Body>().results;
    expect(results.map((r) => r.errors?.[0]?.field)).toEqual(['responded_at', 'step_index', 'date_of_birth', 'patient_external_id']);
  });

  it('answers problems for a body that is not JSON, too large, or with too many records', async () => {
    expect((await post([patient('p1')])).statusCode).toBe(200); // the patient the records below refer to
    const notJson = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: '{"records": [',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.headers['content-type']).toContain('application/problem+json');

    const tooMany = await post(Array.from({ length: 5001 }, (_, i) => appointment(`m${i}`, 'p1')));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json<{ errors: { field: string }[] }>().errors[0].field).toBe('records');

    const noRecords = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(token),
      payload: { rows: [] },
    });
    expect(noRecords.statusCode).toBe(400);

    // Above the global 1 MB limit but within the route's own 10 MB: accepted.
    const big = await post(Array.from({ length: 4000 }, (_, i) => appointment(`big${i}`, 'p1', { notes: 'n'.repeat(400) })));
    expect(big.statusCode).toBe(200);
    expect(big.json<Body>().summary.created).toBe(4000);

    const huge = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: { ...bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ records: [{ pad: 'x'.repeat(11 * 1_048_576) }] }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toContain('application/problem+json');
  });

  it('records one audit event per batch, in the same transaction, naming the patients it changed', async () => {
    const before = Number(
      (await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE organization_id = $1`, [org]))[0].n,
    );
    const res = await post([patient('audit-1'), patient('audit-2'), appointment('audit-a1', 'audit-1')]);
    expect(res.statusCode).toBe(200);
    const ids = (res.json() as Body).results
      .filter((r) => r.record_type === 'patient')
      .map((r) => r.id)
      .sort();
    const events = await t.db.query<{ action: string; patient_ids: string[]; status_code: number }>(
      `SELECT action, patient_ids, status_code FROM audit_events WHERE organization_id = $1 ORDER BY seq`,
      [org],
    );
    expect(events.length).toBe(before + 1);
    const last = events[events.length - 1];
    expect(last.action).toBe('update');
    expect([...last.patient_ids].sort()).toEqual(ids);
    // A batch that changes nothing still leaves its (empty) record: who sent what, when.
    await post([patient('audit-1'), patient('audit-2')]);
    const after = await t.db.query<{ patient_ids: string[] }>(
      `SELECT patient_ids FROM audit_events WHERE organization_id = $1 ORDER BY seq DESC LIMIT 1`,
      [org],
    );
    expect(after[0].patient_ids).toEqual([]);
  });

  it('requires data:write', async () => {
    const analyst = await memberToken(t, org, 'analyst');
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(analyst),
      payload: { records: [patient('z1')] },
    });
    expect(res.statusCode).toBe(403);
    const anonymous = await t.inject({ method: 'POST', url: `/api/v1/ingest/${org}/records`, payload: { records: [patient('z1')] } });
    expect(anonymous.statusCode).toBe(401);
  });

  it('documents every record type in OpenAPI as a oneOf discriminated by record_type', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/api/docs-json' })).json<{
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: { $ref: string } }> } }>>;
      components: {
        schemas: Record<
          string,
          {
            properties: Record<
              string,
              { items?: { oneOf: { $ref: string }[]; discriminator: { propertyName: string; mapping: Record<string, string> } } }
            >;
            required?: string[];
          }
        >;
      };
    }>();
    const op = doc.paths['/api/v1/ingest/{organizationId}/records'].post;
    const ref = op.requestBody.content['application/json'].schema.$ref.split('/').pop()!;
    const items = doc.components.schemas[ref].properties.records.items!;
    expect(items.discriminator.propertyName).toBe('record_type');
    expect(Object.keys(items.discriminator.mapping).sort()).toEqual([
      'appointment',
      'automation_enrollment',
      'communication',
      'consent',
      'journey_event',
      'patient',
      'payment',
      'referral',
      'survey_response',
      'treatment_plan',
    ]);
    expect(items.oneOf).toHaveLength(10);
    const appointmentDoc = doc.components.schemas.AppointmentRecordDoc;
    expect(Object.keys(appointmentDoc.properties)).toEqual(
      expect.arrayContaining(['source', 'external_id', 'patient_external_id', 'starts_at', 'type', 'status', 'value', 'notes']),
    );
    expect(appointmentDoc.required).toEqual(
      expect.arrayContaining(['record_type', 'source', 'external_id', 'patient_external_id', 'starts_at', 'type', 'status']),
    );
  });
});
