import { DEMO, seedOrganization } from 'src/demo-data/seed';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { patientColumns } from 'test/utils/phi';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TEST_NOW, TestApp } from 'test/utils/test-app';

interface ExportResponse {
  id: string;
  status: string;
  status_url: string;
  manifest: {
    files: { name: string; rows: number; url: string }[];
    rows: Record<string, number>;
    generalized_rows: number;
    suppressed_rows: number;
  } | null;
}

/** The de-identified export of the demo clinic (2,000 generated patients), checked against its source rows. */
describe('de-identified export: /api/v1/analytics/:organizationId/deidentified-exports', () => {
  let t: TestApp;
  let org: string;
  let admin: string;
  let cipher: PhiCipher;

  beforeAll(async () => {
    t = await createTestApp();
    cipher = t.app.get(PhiCipher);
    org = (await seedOrganization(t.db.url, { ...DEMO, now: TEST_NOW, cipher })).organizationId;
    admin = await memberToken(t, org, 'admin');
  }, 120_000);
  afterAll(() => t?.close());

  const base = (): string => `/api/v1/analytics/${org}/deidentified-exports`;
  const start = async (body: Record<string, unknown>): Promise<ExportResponse> => {
    const res = await t.inject({ method: 'POST', url: base(), headers: bearer(admin), payload: body });
    expect(res.statusCode).toBe(202);
    return res.json<ExportResponse>();
  };
  const finished = (id: string): Promise<ExportResponse> =>
    eventually(
      async () => (await t.inject({ method: 'GET', url: `${base()}/${id}`, headers: bearer(admin) })).json<ExportResponse>(),
      (e) => e.status === 'succeeded' || e.status === 'failed',
      { timeoutMs: 120_000, intervalMs: 200, what: 'the export to finish' },
    );
  const download = async (url: string): Promise<string> => {
    const res = await t.inject({ method: 'GET', url, headers: bearer(admin) });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const lines = (text: string): Record<string, unknown>[] =>
    text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("contains none of the patients' identifiers, every quasi-identifier group has at least k rows, and patients without analytics consent are absent", async () => {
    const queued = await start({});
    expect(queued).toMatchObject({ status: 'queued', status_url: `${base()}/${queued.id}` });
    expect(queued.manifest).toBeUndefined();
    const done = await finished(queued.id);
    expect(done.status).toBe('succeeded');
    const manifest = done.manifest!;
    expect(manifest.files.map((f) => f.name)).toEqual(['patients.ndjson', 'visits.ndjson', 'payments.ndjson', 'scores.ndjson']);
    const files = Object.fromEntries(await Promise.all(manifest.files.map(async (f) => [f.name, await download(f.url)] as const)));
    const text = Object.values(files).join('\n');

    // The source rows, decrypted.
    const source = await t.db.query<{
      id: string;
      external_id: string;
      name: string;
      email_enc: string;
      phone_enc: string;
      date_of_birth_enc: string;
      address_enc: string;
      consented: boolean;
    }>(
      `SELECT id, external_id, name, email_enc, phone_enc, date_of_birth_enc, address_enc, consent_grants @> ARRAY['analytics'] AS consented
         FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`,
      [org],
    );
    expect(source.length).toBeGreaterThan(1500);
    let checked = 0;
    const phi = await patientColumns(t.db, t.app.get(PhiKeyring), org, source);
    for (const p of source) {
      const address = phi.json<{ street: string; zip: string }>(p, 'address_enc')!;
      for (const identifier of [
        p.name,
        phi.text(p, 'email_enc'),
        phi.text(p, 'phone_enc'),
        phi.text(p, 'date_of_birth_enc'),
        address.street,
        p.id,
        p.external_id,
      ]) {
        expect(text.includes(identifier as string)).toBe(false);
      }
      expect(text.includes(`"${address.zip}"`)).toBe(false);
      checked++;
    }
    expect(checked).toBe(source.length);

    const patients = lines(files['patients.ndjson']);
    expect(patients.length).toBe(manifest.rows.patients);
    for (const row of patients) {
      expect(Object.keys(row).sort()).toEqual(['birth_year_band', 'state', 'study_id', 'zip3']);
      expect(row.zip3).toMatch(/^\d{3}$/);
      expect(row.birth_year_band).toMatch(/^(\d{4}-\d{4}|90\+|\*|unknown)$/);
    }
    // k = 11: every combination of the quasi-identifiers covers at least 11 patients.
    const groups = new Map<string, number>();
    for (const r of patients)
      groups.set(`${r.birth_year_band}|${r.zip3}|${r.state}`, (groups.get(`${r.birth_year_band}|${r.zip3}|${r.state}`) ?? 0) + 1);
    expect(groups.size).toBeGreaterThan(1);
    expect(Math.min(...groups.values())).toBeGreaterThanOrEqual(11);

    // Only patients with analytics consent were considered: released + suppressed = the consenting patients.
    const consenting = source.filter((p) => p.consented).length;
    expect(consenting).toBeLessThan(source.length);
    expect(patients.length + manifest.suppressed_rows).toBe(consenting);
    const studyIds = new Set(patients.map((p) => p.study_id));
    expect(studyIds.size).toBe(patients.length);
    for (const name of ['visits.ndjson', 'payments.ndjson', 'scores.ndjson']) {
      const rows = lines(files[name]);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => studyIds.has(r.study_id))).toBe(true);
      // Dates as years only.
      expect(rows.every((r) => !('days_since_first_visit' in r) && (name === 'scores.ndjson' || Number.isInteger(r.year)))).toBe(true);
    }
    expect(lines(files['scores.ndjson']).length).toBe(patients.length);

    // The report: what was removed, generalized and suppressed.
    const report = await t.inject({ method: 'GET', url: `${base()}/${queued.id}/report`, headers: bearer(admin) });
    expect(report.statusCode).toBe(200);
    const r = report.json<{
      patients: Record<string, number>;
      removed: { field: string; source_rows: number }[];
      suppression: { suppressed_rows: number; generalized_rows: number };
      rules: { source: string }[];
    }>();
    expect(r.patients).toEqual({
      in_organization: source.length,
      without_consent: source.length - consenting,
      considered: consenting,
      released: patients.length,
      suppressed: manifest.suppressed_rows,
    });
    expect(r.removed.find((x) => x.field === 'name')?.source_rows).toBe(consenting);
    expect(r.suppression).toMatchObject({ suppressed_rows: manifest.suppressed_rows, generalized_rows: manifest.generalized_rows });
    expect(r.rules.every((rule) => rule.source.length > 0)).toBe(true);
  }, 180_000);

  it('withdrawing analytics consent takes the patients out of the next export', async () => {
    const consenting = async (): Promise<string[]> =>
      (
        await t.db.query<{ id: string }>(
          `SELECT id FROM patients WHERE organization_id = $1 AND deleted_at IS NULL AND consent_grants @> ARRAY['analytics'] ORDER BY id`,
          [org],
        )
      ).map((r) => r.id);
    const before = await consenting();
    const first = await finished((await start({})).id);
    expect(first.manifest!.rows.patients + first.manifest!.suppressed_rows).toBe(before.length);
    for (const id of before.slice(0, 3)) {
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/patients/${org}/profile/${id}/consents`,
        headers: bearer(admin),
        payload: { purpose: 'analytics', decision: 'withdrawn' },
      });
      expect(res.statusCode).toBe(201);
    }
    expect(await consenting()).toEqual(before.slice(3));
    const second = await finished((await start({})).id);
    const report = (await t.inject({ method: 'GET', url: `${base()}/${second.id}/report`, headers: bearer(admin) })).json<{
      patients: { considered: number; without_consent: number };
    }>();
    expect(report.patients.considered).toBe(before.length - 3);
    expect(second.manifest!.rows.patients + second.manifest!.suppressed_rows).toBe(before.length - 3);
  }, 180_000);

  it('research asks for research consent; intervals replace dates', async () => {
    const [{ n: research }] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND deleted_at IS NULL AND consent_grants @> ARRAY['research']`,
      [org],
    );
    const done = await finished((await start({ purpose: 'research', dates: 'interval', k: 5 })).id);
    expect(done.status).toBe('succeeded');
    expect(done.manifest!.rows.patients + done.manifest!.suppressed_rows).toBe(research);
    const visits = lines(await download(done.manifest!.files[1].url));
    expect(visits.length).toBeGreaterThan(0);
    expect(visits.every((v) => !('year' in v) && (v.days_since_first_visit === null || Number.isInteger(v.days_since_first_visit)))).toBe(
      true,
    );
    const patients = lines(await download(done.manifest!.files[0].url));
    const groups = new Map<string, number>();
    for (const p of patients)
      groups.set(`${p.birth_year_band}|${p.zip3}|${p.state}`, (groups.get(`${p.birth_year_band}|${p.zip3}|${p.state}`) ?? 0) + 1);
    expect(Math.min(...groups.values())).toBeGreaterThanOrEqual(5);
  }, 180_000);

  it('answers 404 for an unknown export, 409 for the report of one not finished, 400 for bad options; the analyst may not export', async () => {
    expect(
      (await t.inject({ method: 'GET', url: `${base()}/00000000-0000-4000-8000-000000000000`, headers: bearer(admin) })).statusCode,
    ).toBe(404);
    expect(
      (await t.inject({ method: 'GET', url: `${base()}/00000000-0000-4000-8000-000000000000/report`, headers: bearer(admin) })).statusCode,
    ).toBe(404);
    for (const [body, field] of [
      [{ k: 1 }, 'k'],
      [{ purpose: 'marketing' }, 'purpose'],
      [{ dates: 'month' }, 'dates'],
    ] as const) {
      const res = await t.inject({ method: 'POST', url: base(), headers: bearer(admin), payload: body });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    const analyst = await memberToken(t, org, 'analyst');
    expect((await t.inject({ method: 'POST', url: base(), headers: bearer(analyst), payload: {} })).statusCode).toBe(403);
    // An export not finished yet: no manifest, and its report is a 409.
    const [queued] = await t.db.query<{ id: string }>(
      `INSERT INTO job_runs (organization_id, type, status, payload, queued_at) VALUES ($1, 'deidentified-export', 'queued', '{"purpose":"analytics","k":11,"dates":"year"}', now()) RETURNING id`,
      [org],
    );
    const pending = await t.inject({ method: 'GET', url: `${base()}/${queued.id}`, headers: bearer(admin) });
    expect(pending.json<ExportResponse>()).toMatchObject({ status: 'queued' });
    expect(pending.json<ExportResponse>().manifest).toBeUndefined();
    const early = await t.inject({ method: 'GET', url: `${base()}/${queued.id}/report`, headers: bearer(admin) });
    expect([early.statusCode, early.json<{ type: string }>().type]).toEqual([409, expect.stringContaining('conflict')]);
    const done = await finished((await start({})).id);
    const file = await t.inject({ method: 'GET', url: `${base()}/${done.id}/files/secrets.ndjson`, headers: bearer(admin) });
    expect(file.statusCode).toBe(404);
  }, 180_000);
});
