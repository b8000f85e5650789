import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bulkFile, Json, resources } from 'test/fhir-import/fhir-fixtures';

const FHIR = { 'content-type': 'application/fhir+json' };

/** A transaction of one Synthea patient and its resources, each with a urn:uuid fullUrl; references rewritten to those. */
function transactionOf(patientId: string, type: 'transaction' | 'batch' = 'transaction'): Json {
  const patient = resources(bulkFile('Patient')).find((p) => p.id === patientId) as Json;
  const mine = (t: string): Json[] => resources(bulkFile(t)).filter((r) => (r.subject ?? r.patient)?.reference === `Patient/${patientId}`);
  const urn = `urn:uuid:${patientId}`;
  const others = [...mine('Encounter').slice(0, 5), ...mine('Condition').slice(0, 5), ...mine('Immunization').slice(0, 2)].map((r) => {
    const copy = JSON.parse(JSON.stringify(r)) as Json;
    delete copy.encounter;
    if (copy.subject) copy.subject = { reference: urn };
    if (copy.patient) copy.patient = { reference: urn };
    return copy;
  });
  // The patient last: a transaction is resolved as a whole, whatever the order of its entries.
  const entries = [...others, { ...patient, id: undefined }].map((resource) => ({
    fullUrl: resource.resourceType === 'Patient' ? urn : `urn:uuid:${resource.id as string}`,
    resource,
    request: { method: 'POST', url: resource.resourceType },
  }));
  return { resourceType: 'Bundle', type, entry: entries };
}

describe('POST /api/v1/fhir/:organizationId (transaction and batch Bundles)', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  const post = (payload: unknown, headers: Record<string, string> = FHIR): ReturnType<TestApp['inject']> =>
    t.inject({ method: 'POST', url: `/api/v1/fhir/${org}`, headers: { ...bearer(token), ...headers }, payload: payload as string });
  const counts = async (): Promise<number[]> => {
    const rows = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 UNION ALL SELECT count(*)::int FROM appointments WHERE organization_id = $1
       UNION ALL SELECT count(*)::int FROM fhir_resources WHERE organization_id = $1`,
      [org],
    );
    return rows.map((r) => r.n);
  };

  beforeAll(async () => {
    t = await createTestApp();
  }, 60_000);
  beforeEach(async () => {
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
  });
  afterAll(() => t.close());

  it('answers a transaction-response entry per entry (urn:uuid references rewritten), then 200 OK with nothing changed the second time', async () => {
    const bundle = transactionOf('129c6ac7-8d06-89de-ad63-0204a93e76c3');
    const first = await post(JSON.stringify(bundle));
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const body = first.json<Json>();
    expect(body.type).toBe('transaction-response');
    expect(body.entry.map((e: Json) => e.response.status)).toEqual([...Array(10).fill('201 Created'), '200 OK', '200 OK', '201 Created']);
    expect(body.entry[12].response.location).toBe('Patient/129c6ac7-8d06-89de-ad63-0204a93e76c3');
    expect(body.entry[0].response.location).toBe(`Encounter/${bundle.entry[0].resource.id as string}`);
    expect(body.entry[10].response.outcome.issue[0]).toMatchObject({
      severity: 'information',
      details: { text: 'Immunization is not imported' },
    });
    expect(await counts()).toEqual([1, 5, 5]);
    const [row] = await t.db.query<{ patient_ref: string }>(`SELECT DISTINCT patient_ref FROM fhir_resources WHERE organization_id = $1`, [
      org,
    ]);
    expect(row.patient_ref).toBe('129c6ac7-8d06-89de-ad63-0204a93e76c3');
    // The patient's phone and email as the list reads them (one contact ciphertext) are the profile's (two columns).
    const [patient] = await t.db.query<{ id: string; contact_enc: string | null }>(`SELECT id, contact_enc FROM patients WHERE organization_id = $1`, [org]);
    expect(patient.contact_enc).toMatch(/^p1:/);
    const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profiles`, headers: bearer(token) });
    const profile = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profile/${patient.id}`, headers: bearer(token) });
    const listed = list.json<{ patients: { phone: string | null; email: string | null }[] }>().patients[0];
    const full = profile.json<{ patient: { phone: string | null; email: string | null } }>().patient;
    expect(listed.phone ?? listed.email).not.toBeNull();
    expect({ phone: listed.phone, email: listed.email }).toEqual({ phone: full.phone, email: full.email });

    const second = await post(JSON.stringify(bundle));
    expect(second.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(Array(13).fill('200 OK'));
    expect(await counts()).toEqual([1, 5, 5]);
  });

  it('takes application/json too, and a batch applies what it can: the bad entry gets its OperationOutcome, the rest is written', async () => {
    const bundle = transactionOf('129c6ac7-8d06-89de-ad63-0204a93e76c3', 'batch');
    bundle.entry[1].resource.period = { start: 'yesterday' };
    const res = await post(JSON.stringify(bundle), { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(200);
    const entries = res.json<Json>().entry as Json[];
    expect(res.json<Json>().type).toBe('batch-response');
    expect(entries[1].response.status).toBe('400 Bad Request');
    expect(entries[1].response.outcome.issue[0]).toMatchObject({ expression: ['Bundle.entry[1].resource.period.start'] });
    expect(entries.filter((e) => e.response.status === '201 Created')).toHaveLength(10);
    expect(await counts()).toEqual([1, 4, 5]);
  });

  it('refuses a transaction with one bad entry (400 OperationOutcome naming it) and writes nothing', async () => {
    const cases: [string, (b: Json) => void, RegExp, string | undefined][] = [
      [
        'a bad birthDate',
        (b) => (b.entry[12].resource.birthDate = '1984-13-40'),
        /Invalid date format/,
        'Bundle.entry[12].resource.birthDate',
      ],
      ['an unknown resource type', (b) => (b.entry[3].resource = { resourceType: 'Frobnicator', id: 'f' }), /Frobnicator/, undefined],
      [
        'a dangling reference',
        (b) => (b.entry[2].resource.subject = { reference: 'Patient/nobody' }),
        /Patient\/nobody was not found/,
        'Bundle.entry[2].resource.subject',
      ],
      [
        'a missing required element',
        (b) => delete b.entry[0].resource.status,
        /Missing required property/,
        'Bundle.entry[0].resource.status',
      ],
    ];
    let ran = 0;
    for (const [what, spoil, message, expression] of cases) {
      const bundle = transactionOf('129c6ac7-8d06-89de-ad63-0204a93e76c3');
      spoil(bundle);
      const res = await post(JSON.stringify(bundle));
      expect({ what, status: res.statusCode }).toEqual({ what, status: 400 });
      const outcome = res.json<Json>();
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(outcome.issue[0].details.text).toMatch(message);
      expect(outcome.issue[0].expression?.[0]).toBe(expression);
      expect(await counts()).toEqual([0, 0, 0]);
      ran++;
    }
    expect(ran).toBe(4);
  });

  it('answers problem+json for what is not a Bundle, and 413 for a 60 MB Bundle', async () => {
    const notJson = await post('{"resourceType": "Bundle", ');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.headers['content-type']).toMatch(/problem\+json/);
    const notBundle = await post(JSON.stringify({ resourceType: 'Patient', id: 'x' }));
    expect(notBundle.statusCode).toBe(400);
    expect(notBundle.json<Json>().errors).toEqual([{ field: 'resourceType', message: 'must be "Bundle"' }]);
    const badType = await post(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [] }));
    expect(badType.json<Json>().errors).toEqual([{ field: 'type', message: 'must be "transaction" or "batch"' }]);
    const huge = JSON.stringify({
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ resource: { resourceType: 'Basic', id: 'b', code: { text: 'x'.repeat(60 * 1_048_576) } } }],
    });
    const tooLarge = await post(huge);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toMatch(/problem\+json/);
    expect(await counts()).toEqual([0, 0, 0]);
  });
});
