import { validateFhirResource } from 'src/fhir-import/fhir-validator';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';
import type { Json } from 'test/fhir-import/fhir-fixtures';
import { importDone, importOutcomes } from 'test/fhir-import/fhir-import-client';

const BOUNDARY = '----fhir-import-test-7d3c';
/** The app's FHIR_IMPORT_LIMIT_BYTES here: small, so that "too large" is cheap to send. */
const LIMIT = 20_000;

interface Part {
  field?: string;
  filename?: string;
  type?: string;
  content: string | Buffer;
}

/** A multipart/form-data body, built by hand (the parts exactly as a client would send them). */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.field ?? 'files'}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } };
}

const ndjson = (resources: Json[]): string => `${resources.map((r) => JSON.stringify(r)).join('\n')}\n`;
const NDJSON = 'application/fhir+ndjson';

const patient = (id: string, family: string): Json => ({ resourceType: 'Patient', id, name: [{ family, given: ['Ann'] }], birthDate: '1980-02-03' });
const encounter = (id: string, patientId: string): Json => ({
  resourceType: 'Encounter',
  id,
  status: 'finished',
  class: { code: 'AMB' },
  subject: { reference: `Patient/${patientId}` },
  period: { start: '2026-03-01T10:00:00Z' },
});
const condition = (id: string, patientId: string): Json => ({
  resourceType: 'Condition',
  id,
  subject: { reference: `Patient/${patientId}` },
  code: { text: 'Gingivitis' },
});

describe('POST /api/v1/fhir/:organizationId/import as multipart/form-data (one NDJSON file per part)', () => {
  let t: TestApp;
  let org: string;
  let token: string;

  const post = (body: { payload: Buffer; headers: Record<string, string> }) =>
    t.inject({ method: 'POST', url: `/api/v1/fhir/${org}/import`, headers: { ...bearer(token), ...body.headers }, payload: body.payload });

  const finished = (start: Awaited<ReturnType<typeof post>>): Promise<Json> => importDone(t, token, start);
  const outcomesOf = (status: Json): Promise<Json[]> => importOutcomes(t, token, status);

  /** What an upload leaves: import jobs, and stored files still readable (not expired) with their chunks. */
  const leftovers = async (): Promise<{ jobs: number; files: number; chunks: number }> => {
    const [row] = await t.db.query<{ jobs: number; files: number; chunks: number }>(
      `SELECT (SELECT count(*)::int FROM job_runs WHERE organization_id = $1 AND type = 'fhir-import') AS jobs,
              (SELECT count(*)::int FROM stored_files WHERE organization_id = $1 AND run_id IS NULL AND expires_at > $2) AS files,
              (SELECT count(*)::int FROM stored_file_chunks c JOIN stored_files f ON f.organization_id = c.organization_id AND f.id = c.file_id
                WHERE c.organization_id = $1 AND f.run_id IS NULL) AS chunks`,
      [org, t.clock.now()],
    );
    return row;
  };

  beforeAll(async () => {
    // The process's first validation loads the FHIR definitions (seconds of CPU, blocking the event loop): done here,
    // so that the in-process job of the first import does not hold its own request's audit append past its timeout.
    for (const r of [patient('w', 'W'), encounter('w', 'w'), condition('w', 'w')]) validateFhirResource(r);
    t = await createTestApp({ env: { FHIR_IMPORT_LIMIT_BYTES: String(LIMIT) } });
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
  }, 60_000);
  afterAll(() => t.close());

  it('imports two files of one request, references before their patients (the encounters file first), naming each file in the outcomes and the result', async () => {
    const others = ndjson([
      encounter('e-1', 'mp-1'),
      condition('c-1', 'mp-2'),
      encounter('e-dangling', 'mp-never-sent'),
      encounter('e-2', 'mp-2'),
    ]);
    const patients = ndjson([patient('mp-1', 'First'), patient('mp-2', 'Second')]);
    const status = await finished(
      await post(
        multipart([
          { filename: 'Encounter.000.ndjson', type: NDJSON, content: others },
          { filename: 'Patient.000.ndjson', type: 'application/octet-stream', content: patients },
        ]),
      ),
    );
    expect(status.result).toMatchObject({
      resources: 6,
      counts: { Patient: { created: 2 }, Encounter: { created: 2, rejected: 1 }, Condition: { created: 1 } },
      rejected_lines: 1,
      files: [
        { name: 'Encounter.000.ndjson', bytes: Buffer.byteLength(others) },
        { name: 'Patient.000.ndjson', bytes: Buffer.byteLength(patients) },
      ],
    });
    const outcomes = await outcomesOf(status);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].extension[0].valueString).toBe('Encounter.000.ndjson:3');
    expect(outcomes[0].issue[0]).toMatchObject({
      code: 'not-found',
      expression: ['Encounter.subject'],
      diagnostics: 'Encounter.000.ndjson:3 (Encounter/e-dangling)',
    });
    const visits = await t.db.query<{ external_id: string; patient: string }>(
      `SELECT a.external_id, p.external_id AS patient FROM appointments a JOIN patients p ON p.id = a.patient_id
        WHERE a.organization_id = $1 ORDER BY 1`,
      [org],
    );
    expect(visits).toEqual([
      { external_id: 'Encounter/e-1', patient: 'mp-1' },
      { external_id: 'Encounter/e-2', patient: 'mp-2' },
    ]);
    // The uploads are stored under their parts' file names.
    const names = await t.db.query<{ name: string }>(
      `SELECT name FROM stored_files WHERE organization_id = $1 AND run_id IS NULL ORDER BY name`,
      [org],
    );
    expect(names.map((n) => n.name)).toEqual(['Encounter.000.ndjson', 'Patient.000.ndjson']);
  }, 120_000);

  it('imports them the other way round too (patients first), and the same upload twice changes nothing', async () => {
    const patients = ndjson([patient('mq-1', 'Third')]);
    const others = ndjson([encounter('eq-1', 'mq-1'), condition('cq-1', 'mq-1')]);
    const body = multipart([
      { filename: 'patients.ndjson', type: NDJSON, content: patients },
      { filename: 'clinical.ndjson', type: 'application/x-ndjson', content: others },
    ]);
    const first = await finished(await post(body));
    expect(first.result.counts).toEqual({ Patient: { created: 1 }, Encounter: { created: 1 }, Condition: { created: 1 } });
    expect(first.result.rejected_lines).toBe(0);
    const again = await finished(await post(body));
    expect(again.result.counts).toEqual({ Patient: { unchanged: 1 }, Encounter: { unchanged: 1 }, Condition: { unchanged: 1 } });
    expect(again.result.files.map((f: Json) => f.name)).toEqual(['patients.ndjson', 'clinical.ndjson']);
  }, 120_000);

  it('refuses bad uploads with problem+json naming what was wrong, keeping nothing (no job, no stored part)', async () => {
    const before = await leftovers();
    const good = ndjson([patient('never-1', 'Never')]);
    const cases: { body: { payload: Buffer; headers: Record<string, string> }; status: number; detail: RegExp }[] = [
      { body: multipart([]), status: 400, detail: /no files/ },
      { body: multipart([{ field: 'source', content: 'ehr' }]), status: 400, detail: /Part 1 \(the form field "source"\) is not a file/ },
      {
        body: multipart([
          { filename: 'ok.ndjson', type: NDJSON, content: good },
          { filename: 'visits.csv', type: 'text/csv', content: 'id,patient\n1,2\n' },
        ]),
        status: 415,
        detail: /Part 2 \("visits\.csv"\) is text\/csv, not NDJSON/,
      },
      {
        body: multipart([
          { filename: 'ok.ndjson', type: NDJSON, content: good },
          { filename: 'bundle.ndjson', type: NDJSON, content: 'resourceType,id\nPatient,1\n' },
        ]),
        status: 400,
        detail: /Part 2 \("bundle\.ndjson"\) is not NDJSON/,
      },
      {
        body: multipart([{ filename: 'export.ndjson', type: NDJSON, content: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]) }]),
        status: 400,
        detail: /compressed \(gzip\)/,
      },
      {
        body: multipart([
          { filename: 'a.ndjson', type: NDJSON, content: good },
          { filename: 'a.ndjson', type: NDJSON, content: good },
        ]),
        status: 400,
        detail: /Part 2 \("a\.ndjson"\): another part has the same file name/,
      },
      { body: multipart([{ filename: 'empty.ndjson', type: NDJSON, content: '\n\n' }]), status: 400, detail: /Part 1 \("empty\.ndjson"\) is empty/ },
      {
        // Over FHIR_IMPORT_LIMIT_BYTES in all, though each part is under it: the first part was stored, and is removed.
        body: multipart([
          { filename: 'one.ndjson', type: NDJSON, content: `${good}${' '.repeat(12_000)}\n` },
          { filename: 'two.ndjson', type: NDJSON, content: `${good}${' '.repeat(12_000)}\n` },
        ]),
        status: 413,
        detail: /larger than FHIR_IMPORT_LIMIT_BYTES \(20000 bytes\)/,
      },
      {
        body: multipart(Array.from({ length: 101 }, (_, i) => ({ filename: `f${i}.ndjson`, type: NDJSON, content: good }))),
        status: 413,
        detail: /at most 100 files/,
      },
      {
        body: {
          payload: Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="cut.ndjson"\r\n\r\n{"resourceType":`),
          headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        },
        status: 400,
        detail: /multipart body is malformed/,
      },
    ];
    for (const c of cases) {
      const res = await post(c.body);
      expect({ status: res.statusCode, type: res.headers['content-type'] }).toEqual({
        status: c.status,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(res.json<Json>().detail).toMatch(c.detail);
      expect(await leftovers()).toEqual(before);
    }
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND external_id = 'never-1'`, [
      org,
    ]);
    expect(n).toBe(0);
  }, 120_000);

  it('counts a plain NDJSON body against the same limit (413, nothing kept)', async () => {
    const before = await leftovers();
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/fhir/${org}/import`,
      headers: { ...bearer(token), 'content-type': NDJSON },
      payload: `${ndjson([patient('never-2', 'Never')])}${' '.repeat(LIMIT)}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json<Json>().detail).toMatch(/FHIR_IMPORT_LIMIT_BYTES/);
    expect(await leftovers()).toEqual(before);
  });
});
