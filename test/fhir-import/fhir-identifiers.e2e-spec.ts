import { Role } from 'src/organizations/organizations.enums';
import { validateFhirResource } from 'src/fhir-import/fhir-validator';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import type { Json } from 'test/fhir-import/fhir-fixtures';
import { importDone, importOutcomes } from 'test/fhir-import/fhir-import-client';

const MRN = 'http://hospital.example.org/mrn';
const SSN = 'http://hl7.org/fhir/sid/us-ssn';

const patient = (id: string, identifiers: { system?: string; value: string }[], family = 'Ident'): Json => ({
  resourceType: 'Patient',
  id,
  identifier: identifiers,
  name: [{ family, given: ['Ida'] }],
  birthDate: '1975-06-07',
});
/** An Encounter naming its patient by identifier only (a logical reference, as EHR exports send). */
const encounterBy = (id: string, system: string, value: string): Json => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { code: 'AMB' },
  subject: { identifier: { system, value } },
  period: { start: '2026-04-02T09:30:00Z' },
});
const conditionBy = (id: string, system: string, value: string): Json => ({
  resourceType: 'Condition',
  id,
  subject: { type: 'Patient', identifier: { system, value } },
  code: { text: 'Periodontitis' },
});

describe('FHIR import: Patient identifiers kept as external ids, logical references resolved by them', () => {
  let t: TestApp;
  let org: string;
  let token: string;

  const runImport = async (lines: Json[]): Promise<Json> =>
    importDone(
      t,
      token,
      await t.inject({
        method: 'POST',
        url: `/api/v1/fhir/${org}/import`,
        headers: { ...bearer(token), 'content-type': 'application/fhir+ndjson' },
        payload: lines.map((l) => JSON.stringify(l)).join('\n'),
      }),
    );
  const outcomesOf = (status: Json): Promise<Json[]> => importOutcomes(t, token, status);
  const bundle = (type: 'transaction' | 'batch', resources: Json[]) =>
    t.inject({
      method: 'POST',
      url: `/api/v1/fhir/${org}`,
      headers: { ...bearer(token), 'content-type': 'application/fhir+json' },
      payload: JSON.stringify({
        resourceType: 'Bundle',
        type,
        entry: resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType as string}/${resource.id as string}` } })),
      }),
    });
  const patientId = async (externalId: string): Promise<string | undefined> =>
    (await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 AND external_id = $2`, [org, externalId]))[0]?.id;
  const visitsOf = (externalId: string): Promise<{ external_id: string }[]> =>
    t.db.query(
      `SELECT a.external_id FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.organization_id = $1 AND p.external_id = $2 ORDER BY 1`,
      [org, externalId],
    );

  beforeAll(async () => {
    // The process's first validation loads the FHIR definitions (seconds of CPU, blocking the event loop): done here,
    // so that the in-process job of the first import does not hold its own request's audit append past its timeout.
    for (const r of [patient('w', [{ value: 'w' }]), encounterBy('w', MRN, 'w'), conditionBy('w', MRN, 'w')]) validateFhirResource(r);
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, Role.Owner);
  }, 60_000);
  afterAll(() => t.close());

  const ida = patient('ida-1', [
    { system: MRN, value: 'MRN-0042' },
    { system: SSN, value: '999-12-3456' },
  ]);
  const lines = [
    // References first, the patient last: the import writes every patient before the rest.
    encounterBy('enc-by-mrn', MRN, 'MRN-0042'),
    conditionBy('cond-by-ssn', SSN, '999-12-3456'),
    encounterBy('enc-unknown', MRN, 'MRN-9999'),
    ida,
  ];

  it('resolves references by identifier in an NDJSON import (whatever the order), never storing or echoing the values', async () => {
    const status = await runImport(lines);
    expect(status.result.counts).toEqual({ Patient: { created: 1 }, Encounter: { created: 1, rejected: 1 }, Condition: { created: 1 } });
    expect(await visitsOf('ida-1')).toEqual([{ external_id: 'Encounter/enc-by-mrn' }]);
    const profile = await t.inject({
      method: 'GET',
      url: `/api/v1/patients/${org}/profile/${(await patientId('ida-1')) as string}`,
      headers: bearer(token),
    });
    expect(profile.statusCode).toBe(200);
    expect(JSON.stringify(profile.json())).toContain('Periodontitis');

    const outcomes = await outcomesOf(status);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].issue[0]).toMatchObject({ code: 'not-found', expression: ['Encounter.subject'] });
    expect(outcomes[0].issue[0].details.text).toContain(`system "${MRN}"`);
    expect(JSON.stringify(outcomes)).not.toContain('MRN-9999');

    // Stored as keyed hashes and ciphertext: nothing readable.
    const rows = await t.db.query<Record<string, unknown>>(`SELECT * FROM patient_identifiers WHERE organization_id = $1`, [org]);
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    for (const plain of ['MRN-0042', '999-12-3456', MRN, SSN]) expect(stored).not.toContain(plain);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(String(r.identifier_hash)) && String(r.identifier_enc).startsWith('p1:'))).toBe(true);
  }, 120_000);

  it('changes nothing when the same export comes again', async () => {
    const again = await runImport(lines);
    expect(again.result.counts).toEqual({ Patient: { unchanged: 1 }, Encounter: { unchanged: 1, rejected: 1 }, Condition: { unchanged: 1 } });
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_identifiers WHERE organization_id = $1`, [org]);
    expect(n).toBe(2);
  }, 120_000);

  it("updates a patient whose identifiers alone changed, and the patient's export (right of access) shows them", async () => {
    const changed = patient('ida-1', [{ system: MRN, value: 'MRN-0042' }, { value: 'LOCAL-7' }]);
    const status = await runImport([changed]);
    expect(status.result.counts).toEqual({ Patient: { updated: 1 } });
    const id = (await patientId('ida-1')) as string;
    const json = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profile/${id}/export?format=json`, headers: bearer(token) });
    expect(json.statusCode).toBe(200);
    expect(json.json<Json>().patient.identifiers).toEqual([
      { system: null, value: 'LOCAL-7' },
      { system: MRN, value: 'MRN-0042' },
    ]);
    const fhir = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profile/${id}/export`, headers: bearer(token) });
    const exported = fhir.json<Json>().entry.find((e: Json) => e.resource.resourceType === 'Patient').resource;
    expect(exported.identifier).toEqual(
      expect.arrayContaining([{ value: 'LOCAL-7' }, { system: MRN, value: 'MRN-0042' }]),
    );
    // Back to the two identifiers of the other tests.
    expect((await runImport([ida])).result.counts).toEqual({ Patient: { updated: 1 } });
  }, 120_000);

  it('resolves references by identifier inside a transaction Bundle (the patient in the same Bundle, after the reference)', async () => {
    const bo = patient('bo-1', [{ system: MRN, value: 'MRN-0777' }], 'Bundled');
    const res = await bundle('transaction', [encounterBy('enc-bo', MRN, 'MRN-0777'), conditionBy('cond-bo', MRN, 'MRN-0777'), bo]);
    expect(res.statusCode).toBe(200);
    expect(res.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created']);
    expect(await visitsOf('bo-1')).toEqual([{ external_id: 'Encounter/enc-bo' }]);
    const again = await bundle('transaction', [encounterBy('enc-bo', MRN, 'MRN-0777'), conditionBy('cond-bo', MRN, 'MRN-0777'), bo]);
    expect(again.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(['200 OK', '200 OK', '200 OK']);
    const [{ n }] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE p.organization_id = $1 AND p.external_id = 'bo-1'`,
      [org],
    );
    expect(n).toBe(1);
  }, 60_000);

  it('rejects a transaction whose reference by identifier matches no patient, or two (ambiguous), writing nothing', async () => {
    const unknown = await bundle('transaction', [encounterBy('enc-nobody', MRN, 'MRN-0000')]);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<Json>().issue[0]).toMatchObject({ code: 'not-found', expression: ['Bundle.entry[0].resource.subject'] });
    // A second patient carrying an identifier of bo-1: a reference by it can no longer choose.
    const twin = patient('twin-1', [{ system: MRN, value: 'MRN-0777' }], 'Twin');
    const ambiguous = await bundle('batch', [twin, encounterBy('enc-twin', MRN, 'MRN-0777')]);
    expect(ambiguous.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(['201 Created', '400 Bad Request']);
    expect(ambiguous.json<Json>().entry[1].response.outcome.issue[0]).toMatchObject({ code: 'multiple-matches' });
    expect(await visitsOf('twin-1')).toEqual([]);
  }, 60_000);

  it('erases the identifiers with the patient, and the tombstone covers them: a later import naming the person by one is rejected as erased', async () => {
    const id = (await patientId('ida-1')) as string;
    const erasure = await t.inject({
      method: 'POST',
      url: `/api/v1/patients/${org}/profile/${id}/erasure`,
      headers: bearer(token),
      payload: { reason: 'Asked in writing', basis: 'patient_request' },
    });
    expect(erasure.statusCode).toBe(200);
    expect(erasure.json<Json>().records_deleted).toMatchObject({ patients: 1, patient_identifiers: 2 });
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_identifiers WHERE patient_id = $1`, [id]);
    expect(n).toBe(0);
    const tombstones = JSON.stringify(await t.db.query(`SELECT encode(key_hash, 'hex') AS h FROM erasure_tombstones WHERE organization_id = $1`, [org]));
    expect(tombstones).not.toContain('MRN-0042');

    // The same person under a new resource id (an EHR migration), and a visit naming them by identifier.
    const status = await runImport([patient('ida-new-id', [{ system: SSN, value: '999-12-3456' }]), encounterBy('enc-after', MRN, 'MRN-0042')]);
    expect(status.result.counts).toEqual({ Patient: { rejected: 1 }, Encounter: { rejected: 1 } });
    const issues = (await outcomesOf(status)).map((o) => o.issue[0]);
    expect(issues).toEqual([
      expect.objectContaining({ code: 'deleted', expression: ['Patient.identifier[0]'] }),
      expect.objectContaining({ code: 'deleted', expression: ['Encounter.subject'] }),
    ]);
    expect(await patientId('ida-new-id')).toBeUndefined();
  }, 120_000);
});
