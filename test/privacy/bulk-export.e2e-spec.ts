import type { Resource } from '@medplum/fhirtypes';
import { Role } from 'src/organizations/organizations.enums';
import { fhirProblems, loadFhirDefinitions } from 'src/privacy/export/fhir-validator';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { seedFullPatient, type StoredCounts } from 'test/privacy/export-fixtures';

interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: unknown[];
}

describe('bulk export (POST/GET/DELETE /api/v1/exports/{organizationId})', () => {
  let t: TestApp;
  let org: string;
  let owner: string;
  const seeded: { patientId: string; referrerId: string; counts: StoredCounts }[] = [];

  beforeAll(async () => {
    loadFhirDefinitions();
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    owner = await memberToken(t, org, Role.Owner);
    for (let n = 0; n < 3; n++) seeded.push(await seedFullPatient(t, org, n));
    // Another organization's records must not appear.
    await seedFullPatient(t, (await createOrganization(t.db)).id, 1);
  }, 120_000);
  afterAll(() => t.close());

  const path = (u: string): string => u.replace(/^https?:\/\/[^/]+/, '');
  const start = async (body: Record<string, unknown> = {}, token = owner) =>
    t.inject({ method: 'POST', url: `/api/v1/exports/${org}`, headers: bearer(token), payload: body });
  const finished = async (location: string): Promise<Manifest> => {
    const res = await eventually(
      () => t.inject({ method: 'GET', url: location, headers: bearer(owner) }),
      (r) => r.statusCode !== 202,
      { what: 'the export finished' },
    );
    expect(res.statusCode).toBe(200);
    return res.json() as Manifest;
  };
  const lines = async (url: string, token = owner): Promise<string[]> => {
    const res = await t.inject({ method: 'GET', url: path(url), headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
    return res.body.split('\n').filter((l) => l.length > 0);
  };

  /** The organization's stored counts, per FHIR resource type. */
  const organizationCounts = async (): Promise<Record<string, number>> => {
    const [row] = await t.db.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM patients WHERE organization_id = $1)::int AS "Patient",
              (SELECT count(*) FROM appointments WHERE organization_id = $1)::int AS "Appointment",
              (SELECT count(*) FROM payments WHERE organization_id = $1 AND kind = 'charge')::int AS "Invoice",
              (SELECT count(*) FROM payments WHERE organization_id = $1 AND kind <> 'charge')::int AS "PaymentReconciliation",
              (SELECT count(*) FROM communications WHERE organization_id = $1)::int AS "Communication",
              (SELECT count(*) FROM survey_responses WHERE organization_id = $1)::int AS "QuestionnaireResponse",
              (SELECT count(*) FROM treatment_plans WHERE organization_id = $1)::int AS "CarePlan",
              ((SELECT count(*) FROM referrals WHERE organization_id = $1) + (SELECT count(*) FROM journey_events WHERE organization_id = $1))::int AS "Basic",
              (SELECT count(*) FROM automation_enrollments WHERE organization_id = $1)::int AS "Task",
              ((SELECT count(*) FROM patient_metrics WHERE organization_id = $1) + (SELECT count(*) FROM risk_score_history WHERE organization_id = $1)
                + (SELECT count(*) FROM reengagement_opportunities WHERE organization_id = $1))::int AS "Observation"`,
      [org],
    );
    const sum = (k: keyof StoredCounts): number => seeded.reduce((s, p) => s + p.counts[k], 0);
    // The patient row's lists and consents are encrypted: what the fixtures wrote (referrers have none).
    return {
      ...row,
      Condition: sum('conditions'),
      AllergyIntolerance: sum('allergies'),
      MedicationStatement: sum('medications'),
      Consent: 2 * row.Patient,
    };
  };

  it("exports every resource of the organization: each file's line count equals the stored count, every line valid", async () => {
    const res = await start();
    expect(res.statusCode).toBe(202);
    const location = res.headers['content-location'] as string;
    expect(location).toMatch(new RegExp(`^/api/v1/exports/${org}/[0-9a-f-]{36}$`));
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['x-progress']).toMatch(/%$/);
    const manifest = await finished(location);
    expect(manifest).toMatchObject({ requiresAccessToken: true, error: [] });
    expect(manifest.request).toMatch(new RegExp(`${location}$`));
    expect(Number.isNaN(Date.parse(manifest.transactionTime))).toBe(false);
    const expected = await organizationCounts();
    expect(Object.values(expected).every((n) => n > 0)).toBe(true);
    expect(Object.fromEntries(manifest.output.map((o) => [o.type, o.count]))).toEqual(expected);
    let checked = 0;
    for (const output of manifest.output) {
      const body = await lines(output.url);
      expect([output.type, body.length]).toEqual([output.type, expected[output.type]]);
      const resources = body.map((l) => JSON.parse(l) as Resource);
      expect(resources.every((r) => r.resourceType === output.type)).toBe(true);
      expect(resources.flatMap((r) => fhirProblems(r))).toEqual([]);
      checked += resources.length;
    }
    expect(checked).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    // Stored encrypted: no plain PHI in the file store's chunks.
    const chunks = await t.db.query<{ data: Buffer }>(`SELECT data FROM stored_file_chunks WHERE organization_id = $1`, [org]);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.some((c) => c.data.includes('Sensitive note'))).toBe(false);
  });

  it('limits to the requested types and patients, and records the kick-off and every download in the audit trail', async () => {
    const target = seeded[1];
    const res = await start({ types: ['Patient', 'Appointment'], patient_ids: [target.patientId] });
    expect(res.statusCode).toBe(202);
    const manifest = await finished(res.headers['content-location'] as string);
    expect(manifest.output.map((o) => [o.type, o.count])).toEqual([
      ['Patient', 1],
      ['Appointment', target.counts.appointments],
    ]);
    const [patient] = (await lines(manifest.output[0].url)).map((l) => JSON.parse(l) as Resource);
    expect(patient.id).toBe(target.patientId);
    const events = await t.db.query<{ action: string; resource: string; patient_ids: string[] }>(
      `SELECT action, resource, patient_ids::text[] AS patient_ids FROM audit_events WHERE organization_id = $1 AND resource LIKE 'bulk_export%' ORDER BY seq`,
      [org],
    );
    expect(events).toContainEqual({ action: 'export', resource: 'bulk_export', patient_ids: [target.patientId] });
    expect(events.filter((e) => e.action === 'export' && e.resource === 'bulk_export_file').length).toBeGreaterThanOrEqual(1);
  });

  it('answers 202 with X-Progress and Retry-After while the export has not finished', async () => {
    const [run] = await t.db.query<{ id: string }>(
      `INSERT INTO job_runs (organization_id, type, status, payload, queued_at, progress) VALUES ($1, 'bulk-export', 'running', '{}', now(), 0.25) RETURNING id`,
      [org],
    );
    const res = await t.inject({ method: 'GET', url: `/api/v1/exports/${org}/${run.id}`, headers: bearer(owner) });
    expect(res.statusCode).toBe(202);
    expect(res.headers['x-progress']).toBe('running 25%');
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ id: run.id, status: 'running', progress: 0.25 });
  });

  it('DELETE cancels the export and deletes its files; then it is 404', async () => {
    const res = await start({ types: ['Patient'] });
    const location = res.headers['content-location'] as string;
    const manifest = await finished(location);
    const del = await t.inject({ method: 'DELETE', url: location, headers: bearer(owner) });
    expect(del.statusCode).toBe(202);
    const runId = location.split('/').pop();
    expect(del.json()).toEqual({ id: runId, cancelled: false, files_deleted: manifest.output.length });
    expect(await t.db.query(`SELECT id FROM stored_files WHERE run_id = $1`, [runId])).toEqual([]);
    expect((await t.inject({ method: 'GET', url: location, headers: bearer(owner) })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: path(manifest.output[0].url), headers: bearer(owner) })).statusCode).toBe(404);
  });

  it('serves files to privacy:manage callers of the organization only; 404 for an unknown export or file', async () => {
    const manifest = await finished((await start({ types: ['Patient'] })).headers['content-location'] as string);
    const file = path(manifest.output[0].url);
    for (const role of [Role.Clinician, Role.FrontDesk, Role.Marketing, Role.Analyst]) {
      const token = await memberToken(t, org, role);
      for (const [method, url] of [
        ['GET', file],
        ['POST', `/api/v1/exports/${org}`],
        ['GET', `/api/v1/exports/${org}/${manifest.request.split('/').pop()}`],
      ] as const) {
        const res = await t.inject({ method, url, headers: bearer(token), payload: method === 'POST' ? {} : undefined });
        expect([role, method, url, res.statusCode]).toEqual([role, method, url, 403]);
      }
    }
    const stranger = await memberToken(t, (await createOrganization(t.db)).id, Role.Owner);
    expect((await t.inject({ method: 'GET', url: file, headers: bearer(stranger) })).statusCode).toBe(403);
    expect((await t.inject({ method: 'GET', url: file })).statusCode).toBe(401);
    expect((await lines(manifest.output[0].url, await memberToken(t, org, Role.Admin))).length).toBe(manifest.output[0].count);
    const unknown = await t.inject({
      method: 'GET',
      url: `/api/v1/exports/${org}/00000000-0000-4000-8000-000000000000`,
      headers: bearer(owner),
    });
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, 'https://patient-journey.dev/problems/export-not-found']);
    const missingFile = await t.inject({ method: 'GET', url: file.replace('Patient.ndjson', 'Task.ndjson'), headers: bearer(owner) });
    expect(missingFile.statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: file.replace('Patient.ndjson', 'secrets.txt'), headers: bearer(owner) })).statusCode).toBe(
      400,
    );
  });

  it('refuses a bad request with 400 naming the field, and starts nothing', async () => {
    const before = await t.db.query(`SELECT id FROM job_runs WHERE organization_id = $1`, [org]);
    for (const [body, field] of [
      [{ types: ['Nope'] }, 'types'],
      [{ types: 'Patient' }, 'types'],
      [{ since: 'yesterday' }, 'since'],
      [{ patient_ids: ['not-a-uuid'] }, 'patient_ids'],
      [{ extra: true }, 'extra'],
    ] as const) {
      const res = await start(body as Record<string, unknown>);
      expect([field, res.statusCode]).toEqual([field, 400]);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(await t.db.query(`SELECT id FROM job_runs WHERE organization_id = $1`, [org])).toHaveLength(before.length);
  });
});
