import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';
import type { Json } from 'test/fhir-import/fhir-fixtures';

const FHIR = { 'content-type': 'application/fhir+json' };
const CHANNEL = 'https://patient-journey.example/fhir/consent-channel';

const patient = { resourceType: 'Patient', id: 'cp1', name: [{ use: 'official', family: 'Lee', given: ['Ada'] }] };
const consent = (decision: 'permit' | 'deny'): Json => ({
  resourceType: 'Consent',
  id: 'k1',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: CHANNEL, code: 'sms' }] }],
  patient: { reference: 'Patient/cp1' },
  dateTime: '2026-11-20T09:30:00Z',
  performer: [{ reference: 'Practitioner/d7' }],
  policyRule: { text: 'Clinic marketing policy' },
  provision: { type: decision, purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HMARKT' }] },
});
const bundle = (type: 'batch' | 'transaction', resources: Json[]): string =>
  JSON.stringify({
    resourceType: 'Bundle',
    type,
    entry: resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
  });

/**
 * FHIR Consent → consent decisions, and how a record the ingestion's `writeRecords` refuses comes back: a consent
 * decision is never changed once stored (the ingestion's rule), so a changed Consent re-sent is a per-record
 * rejection: a 4xx entry (batch), a 400 (transaction, nothing written) or an OperationOutcome line (NDJSON), each
 * naming the resource.
 */
describe('FHIR Consent import and per-record rejections', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  const post = (payload: string): ReturnType<TestApp['inject']> =>
    t.inject({ method: 'POST', url: `/api/v1/fhir/${org}`, headers: { ...bearer(token), ...FHIR }, payload });
  const decisions = (): Promise<Json[]> =>
    t.db.query(
      `SELECT d.purpose, d.channel, d.decision, d.origin, d.recorded_by, d.recorded_at, d.external_id, p.consent_grants
         FROM consent_decisions d JOIN patients p ON p.organization_id = d.organization_id AND p.id = d.patient_id
        WHERE d.organization_id = $1 AND d.origin = 'ehr_import' ORDER BY d.external_id`,
      [org],
    );

  beforeAll(async () => {
    t = await createTestApp();
  }, 60_000);
  beforeEach(async () => {
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
  });
  afterAll(() => t.close());

  it('imports a Consent as a consent decision with its grant, unchanged the second time; a changed one is a 4xx entry naming it', async () => {
    const first = await post(bundle('batch', [patient, consent('permit')]));
    expect(first.statusCode).toBe(200);
    expect(first.json<Json>().entry.map((e: Json) => [e.response.status, e.response.location])).toEqual([
      ['201 Created', 'Patient/cp1'],
      ['201 Created', 'Consent/k1'],
    ]);
    const rows = await decisions();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      purpose: 'marketing',
      channel: 'sms',
      decision: 'granted',
      origin: 'ehr_import',
      recorded_by: 'Practitioner/d7',
      external_id: 'Consent/k1',
    });
    expect((rows[0].recorded_at as Date).toISOString()).toBe('2026-11-20T09:30:00.000Z');
    expect(rows[0].consent_grants).toContain('marketing:sms');

    const again = await post(bundle('batch', [patient, consent('permit')]));
    expect(again.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(['200 OK', '200 OK']);

    const changed = await post(bundle('batch', [patient, consent('deny')]));
    expect(changed.statusCode).toBe(200);
    const entries = changed.json<Json>().entry as Json[];
    expect(entries.map((e) => e.response.status)).toEqual(['200 OK', '400 Bad Request']);
    expect(entries[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(entries[1].response.outcome.issue).toEqual([
      {
        severity: 'error',
        code: 'invalid',
        details: { text: 'a consent record is never changed once stored: send a new decision with a new external_id' },
        expression: ['Consent.id'],
        diagnostics: 'Consent/k1',
      },
    ]);
    expect((await decisions()).map((r) => r.decision)).toEqual(['granted']);
  });

  it('refuses a transaction whose Consent the ingestion rejects: 400 naming the entry and the resource, nothing written', async () => {
    await post(bundle('batch', [patient, consent('permit')]));
    const newPatient = { ...patient, id: 'cp2' };
    const res = await post(bundle('transaction', [newPatient, consent('deny')]));
    expect(res.statusCode).toBe(400);
    expect(res.json<Json>().issue).toEqual([
      expect.objectContaining({ code: 'invalid', expression: ['Bundle.entry[1].resource.id'], diagnostics: 'Consent/k1' }),
    ]);
    const patients = await t.db.query(`SELECT external_id FROM patients WHERE organization_id = $1 ORDER BY external_id`, [org]);
    expect(patients).toEqual([{ external_id: 'cp1' }]);
  });

  it('reports it in a Bulk NDJSON import as an OperationOutcome line naming file, line and resource', async () => {
    await post(bundle('batch', [patient, consent('permit')]));
    const start = await t.inject({
      method: 'POST',
      url: `/api/v1/fhir/${org}/import`,
      headers: { ...bearer(token), 'content-type': 'application/fhir+ndjson' },
      payload: [JSON.stringify(consent('deny')), JSON.stringify(patient)].join('\n'),
    });
    expect(start.statusCode).toBe(202);
    const done = await eventually(
      () => t.inject({ method: 'GET', url: start.headers['content-location'] as string, headers: bearer(token) }),
      (r) => r.statusCode !== 202,
      { timeoutMs: 120_000, intervalMs: 200, what: 'the import' },
    );
    const status = done.json<Json>();
    expect(status.result.counts).toEqual({ Patient: { unchanged: 1 }, Consent: { rejected: 1 } });
    const out = await t.inject({ method: 'GET', url: status.outcomes_url as string, headers: bearer(token) });
    const lines = out.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(lines).toHaveLength(1);
    expect(lines[0].extension[0].valueString).toBe('upload-1.ndjson:1');
    expect(lines[0].issue[0]).toMatchObject({
      code: 'invalid',
      expression: ['Consent.id'],
      diagnostics: 'upload-1.ndjson:1 (Consent/k1)',
    });
    expect((await decisions()).map((r) => r.decision)).toEqual(['granted']);
  }, 150_000);
});
