import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { BULK_FILES, bulkFile, claimsFile, Json, ref, resources } from 'test/fhir-import/fhir-fixtures';
import { importDone } from 'test/fhir-import/fhir-import-client';

const NDJSON = { 'content-type': 'application/fhir+ndjson' };

/** What the profile must show for a patient, computed here from its FHIR resources (independently of the mapping code). */
function expectedFor(all: Json[], id: string): Json {
  const p = all.find((r) => r.resourceType === 'Patient' && r.id === id) as Json;
  const official = (p.name as Json[]).find((n) => n.use === 'official') ?? p.name[0];
  const address = p.address?.[0];
  const mine = (type: string, field = 'subject'): Json[] => all.filter((r) => r.resourceType === type && ref(r[field]) === id);
  const text = (c: Json): string => c.text ?? c.coding[0].display;
  const sortedSet = (xs: string[]): string[] => [...new Set(xs)].sort();
  return {
    name: [...official.given, official.family].join(' '),
    phone: (p.telecom as Json[] | undefined)?.find((t) => t.system === 'phone')?.value ?? null,
    email: (p.telecom as Json[] | undefined)?.find((t) => t.system === 'email')?.value ?? null,
    date_of_birth: p.birthDate,
    address: address
      ? { street: address.line.join(', '), city: address.city, state: address.state, zip: address.postalCode ?? null }
      : null,
    conditions: sortedSet(
      mine('Condition')
        .filter((c) => c.clinicalStatus.coding[0].code === 'active')
        .map((c) => text(c.code)),
    ),
    allergies: sortedSet(
      mine('AllergyIntolerance', 'patient')
        .filter((a) => (a.clinicalStatus?.coding[0].code ?? 'active') === 'active')
        .map((a) => text(a.code)),
    ),
    medications: sortedSet(
      mine('MedicationRequest')
        .filter((m) => m.status === 'active')
        .map((m) => text(m.medicationCodeableConcept)),
    ),
    encounters: mine('Encounter').length,
    completed: mine('Encounter').filter((e) => e.status === 'finished').length,
  };
}

describe('POST /api/v1/fhir/:organizationId/import (Bulk NDJSON), the 13-patient Synthea export', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  const files = BULK_FILES.map((type) => ({ type, text: bulkFile(type) }));
  const all = files.flatMap((f) => resources(f.text));
  const countOf = (type: string): number => all.filter((r) => r.resourceType === type).length;

  const runImport = async (body: string): Promise<Json> => {
    const start = await t.inject({
      method: 'POST',
      url: `/api/v1/fhir/${org}/import`,
      headers: { ...bearer(token), ...NDJSON },
      payload: body,
    });
    expect(start.headers['content-location']).toBe(`/api/v1/fhir/${org}/import/${start.json<Json>().import_id}`);
    return importDone(t, token, start, 240_000);
  };

  beforeAll(async () => {
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
  }, 60_000);
  afterAll(() => t.close());

  it('imports every mapped resource with exact counts, files in reverse order (references before their patients), then changes nothing the second time', async () => {
    // Reverse order: the Patient file last, so every reference points forward.
    const body = [...files]
      .reverse()
      .map((f) => f.text)
      .join('');
    const first = await runImport(body);
    expect(first.result.counts).toEqual({
      Patient: { created: 13 },
      Condition: { created: countOf('Condition') },
      AllergyIntolerance: { created: countOf('AllergyIntolerance') },
      Encounter: { created: countOf('Encounter') },
      MedicationRequest: { created: countOf('MedicationRequest') },
      Immunization: { skipped: countOf('Immunization') },
    });
    expect(first.result.resources).toBe(all.length);
    expect(first.result.rejected_lines).toBe(0);
    expect(first.result.patients_rescored).toBe(13);
    expect(first.result.patients_left_stale).toBe(0);

    const [{ n: patients }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1`, [org]);
    const [{ n: appointments }] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM appointments WHERE organization_id = $1`,
      [org],
    );
    expect([patients, appointments]).toEqual([13, countOf('Encounter')]);
    const stale = await t.db.query(`SELECT 1 FROM patient_metrics WHERE organization_id = $1 AND stale`, [org]);
    expect(stale).toHaveLength(0);

    const second = await runImport(body);
    expect(second.result.counts).toEqual({
      Patient: { unchanged: 13 },
      Condition: { unchanged: countOf('Condition') },
      AllergyIntolerance: { unchanged: countOf('AllergyIntolerance') },
      Encounter: { unchanged: countOf('Encounter') },
      MedicationRequest: { unchanged: countOf('MedicationRequest') },
      Immunization: { skipped: countOf('Immunization') },
    });
    expect(second.result.patients_rescored).toBe(0);
  }, 300_000);

  it("shows each patient's profile field by field as its FHIR source says", async () => {
    const ids = all.filter((r) => r.resourceType === 'Patient').map((r) => r.id as string);
    expect(ids).toHaveLength(13);
    let checked = 0;
    for (const fhirId of ids) {
      const [{ id }] = await t.db.query<{ id: string }>(
        `SELECT id FROM patients WHERE organization_id = $1 AND source = 'fhir' AND external_id = $2`,
        [org, fhirId],
      );
      const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profile/${id}`, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      const p = res.json<Json>().patient;
      const want = expectedFor(all, fhirId);
      expect({ name: p.name, phone: p.phone, email: p.email, date_of_birth: p.date_of_birth, address: p.address }).toEqual({
        name: want.name,
        phone: want.phone,
        email: want.email,
        date_of_birth: want.date_of_birth,
        address: want.address,
      });
      expect(p.medical_info).toEqual({ conditions: want.conditions, allergies: want.allergies, medications: want.medications });
      // The profile shows the latest 50 appointments; the visits are all stored.
      expect(p.engagement_metrics.appointment_history).toHaveLength(Math.min(50, want.encounters));
      const [{ n }] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM appointments WHERE organization_id = $1 AND patient_id = $2`,
        [org, id],
      );
      expect(n).toBe(want.encounters);
      expect(p.engagement_metrics.total_sessions).toBe(want.completed);
      checked++;
    }
    expect(checked).toBe(13);
  }, 120_000);

  it("settles a Claim by its ExplanationOfBenefit whatever comes first: one payment per service, the EOB's amount", async () => {
    const first = await runImport(claimsFile());
    expect(first.result.counts).toEqual({ ExplanationOfBenefit: { created: 1 }, Claim: { superseded: 1, created: 1 } });
    const payments = await t.db.query<{ external_id: string; amount_cents: number; kind: string; status: string }>(
      `SELECT external_id, amount_cents, kind, status FROM payments WHERE organization_id = $1 ORDER BY external_id`,
      [org],
    );
    expect(payments).toEqual([
      { external_id: 'Claim/claim-1', amount_cents: 9640, kind: 'payment', status: 'paid' },
      { external_id: 'Claim/claim-2', amount_cents: 8000, kind: 'charge', status: 'pending' },
    ]);
    const again = await runImport(claimsFile());
    expect(again.result.counts).toEqual({ ExplanationOfBenefit: { unchanged: 1 }, Claim: { superseded: 1, unchanged: 1 } });
  }, 120_000);

  it('rejects bad lines with an OperationOutcome naming file, line and element, and imports the rest', async () => {
    const lines = [
      'not json',
      JSON.stringify({ resourceType: 'Patient', id: 'bad-date', name: [{ family: 'X', given: ['Y'] }], birthDate: '1984-13-40' }),
      JSON.stringify({ resourceType: 'Frobnicator', id: 'x1' }),
      JSON.stringify({
        resourceType: 'Encounter',
        id: 'dangling',
        status: 'finished',
        class: { code: 'AMB' },
        subject: { reference: 'Patient/never-sent' },
        period: { start: '2024-01-01T10:00:00Z' },
      }),
      JSON.stringify({ resourceType: 'Patient', id: 'fine', name: [{ family: 'Fine', given: ['Ann'] }] }),
    ];
    const status = await runImport(lines.join('\n'));
    expect(status.result.counts).toEqual({
      unknown: { rejected: 1 },
      Patient: { rejected: 1, created: 1 },
      Frobnicator: { rejected: 1 },
      Encounter: { rejected: 1 },
    });
    const out = await t.inject({ method: 'GET', url: status.outcomes_url, headers: bearer(token) });
    expect(out.statusCode).toBe(200);
    const outcomes = out.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    const byLine = new Map(outcomes.map((o) => [o.extension[0].valueString as string, o.issue as Json[]]));
    expect([...byLine.keys()].sort()).toEqual(['upload-1.ndjson:1', 'upload-1.ndjson:2', 'upload-1.ndjson:3', 'upload-1.ndjson:4']);
    expect(byLine.get('upload-1.ndjson:1')?.[0].details.text).toBe('The line is not a JSON resource');
    expect(byLine.get('upload-1.ndjson:2')?.[0]).toMatchObject({
      expression: ['Patient.birthDate'],
      details: { text: 'Invalid date format' },
    });
    expect(byLine.get('upload-1.ndjson:3')?.[0].details.text).toMatch(/Frobnicator/);
    expect(byLine.get('upload-1.ndjson:4')?.[0]).toMatchObject({ code: 'not-found', expression: ['Encounter.subject'] });
    const stored = await t.db.query(`SELECT external_id FROM patients WHERE organization_id = $1 AND external_id IN ('bad-date', 'fine')`, [
      org,
    ]);
    expect(stored).toEqual([{ external_id: 'fine' }]);
  }, 120_000);
});
