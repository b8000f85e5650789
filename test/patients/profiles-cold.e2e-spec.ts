import { Client } from 'pg';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { PatientsRepository, prefetchedKeys, type ProfileListRow } from 'src/patients/patients.repository';
import type { ListSpec } from 'src/patients/profile-list';
import { createPhiKeyring, PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiKeysRepository } from 'src/records/phi/phi-keys.repository';
import { contactPlace } from 'src/records/phi/patient-contact';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

interface Page {
  patients: { id: string; name: string; phone: string | null; email: string | null; risk_score: number }[];
  total_count: number;
  summary: { total_patients: number };
}

const PEOPLE = [
  { id: 'ada', name: 'Ada Lane', email: 'ada@example.test', phone: '+1 503 555 0101' },
  { id: 'bo', name: 'Bo Reed', email: 'bo@example.test', phone: '+1 503 555 0102' },
  { id: 'cy', name: 'Cy Moss', email: 'cy@example.test', phone: '+1 503 555 0103' },
  { id: 'di', name: 'Di Park', email: 'di@example.test', phone: '+1 503 555 0104' },
];

/**
 * A clinic's first list request in a process (docs/scaling.md, "A cold clinic's first list request"): its patients'
 * stored keys and the organization's keys are read with the page (one statement instead of three), and the counts'
 * statement runs beside the page's; the answer is the same as a warm request's, values, order and counts.
 */
describe('patient list: a clinic first seen by this process', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  /** Every statement the app sends, in order (pg's Client.query, spied in this process). */
  const sent: string[] = [];
  const query = Client.prototype.query;

  beforeAll(async () => {
    t = await createTestApp({ env: { PATIENT_PAGE_CACHE_ENTRIES: '0' } });
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(token),
      payload: {
        records: PEOPLE.map((p) => ({ record_type: 'patient', source: 'ehr', external_id: p.id, name: p.name, email: p.email, phone: p.phone })),
      },
    });
    expect(res.statusCode).toBe(200);
    jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : String(config?.text));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  const list = async (q = '?sort=name&limit=3'): Promise<{ page: Page; statements: string[] }> => {
    sent.length = 0;
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profiles${q}`, headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return { page: res.json<Page>(), statements: [...sent] };
  };
  const keyStatements = (statements: string[]): string[] => statements.filter((s) => /patient_keys|organization_keys/.test(s));

  it('reads the keys with the page on the first request, from the cache after, and answers the same', async () => {
    const keyring = t.app.get(PhiKeyring);
    // The ingestion created the organization's key in its own transaction, which is never cached: this process
    // has not read it yet.
    expect(keyring.knowsOrganization(org)).toBe(false);
    const cold = await list();
    expect(cold.page.patients.map((p) => [p.name, p.email, p.phone])).toEqual(PEOPLE.slice(0, 3).map((p) => [p.name, p.email, p.phone]));
    expect(cold.page.total_count).toBe(4);
    expect(cold.page.summary.total_patients).toBe(4);
    // One statement read the page and every key it needed; none of the keyring's own.
    const coldKeys = keyStatements(cold.statements);
    expect(coldKeys).toHaveLength(1);
    expect(coldKeys[0]).toMatch(/WITH page AS MATERIALIZED/);
    expect(coldKeys[0]).toMatch(/LEFT JOIN patient_keys pk/);
    expect(keyring.knowsOrganization(org)).toBe(true);

    // The same page again (page cache off): read again, the keys from this process's cache, the same answer.
    const warm = await list();
    expect(warm.page).toEqual(cold.page);
    expect(keyStatements(warm.statements)).toEqual([]);
    expect(warm.statements.filter((s) => /WITH page/.test(s))).toHaveLength(1);

    // Another page of the same clinic: its patients' keys are not cached, one statement of the keyring reads them.
    const next = await list('?sort=name&limit=3&offset=3');
    expect(next.page.patients.map((p) => [p.name, p.email, p.phone])).toEqual([[PEOPLE[3].name, PEOPLE[3].email, PEOPLE[3].phone]]);
    const nextKeys = keyStatements(next.statements);
    expect(nextKeys).toHaveLength(1);
    expect(nextKeys[0]).toMatch(/FROM patient_keys WHERE/);
  });

  it('reads the counts beside the page when they are not cached, and the answer keeps its values and order', async () => {
    const before = await list('?sort=risk_score&order=desc&limit=10');
    await t.app.get(PatientCountsService).invalidate(org);
    const after = await list('?sort=risk_score&order=desc&limit=10');
    expect(after.page).toEqual(before.page);
    expect(after.page.total_count).toBe(4);
    expect(after.statements.filter((s) => /FROM patient_metric_counts/.test(s))).toHaveLength(1);
    expect(after.statements.filter((s) => /WITH page/.test(s))).toHaveLength(1);
  });

  it('page(withKeys) returns the same rows in the same order, and the stored keys the keyring would read', async () => {
    const repo = t.app.get(PatientsRepository);
    const spec = (over: Partial<ListSpec>): ListSpec => ({ sort: 'name', order: 'asc', status: null, search: null, limit: 2, offset: 0, after: null, ...over });
    const strip = (rows: ProfileListRow[]): ProfileListRow[] =>
      rows.map(({ key_wrapped: _w, key_version: _v, key_mine: _m, organization_keys: _o, ...r }) => r as ProfileListRow);
    await t.app.get(TenantDb).statements(org, async (db) => {
      const keys = new PhiKeysRepository();
      const stored = await keys.patientKeys(db, (await db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1`, [db.organizationId])).map((r) => r.id));
      const organization = await keys.organizationKeys(db);
      // A first page, a page with rows to skip, a sort whose key is missing for every patient (the unkeyed
      // segment), and a deep page read from the far end.
      const specs = [spec({}), spec({ offset: 1 }), spec({ sort: 'last_appointment', order: 'desc', limit: 3 }), spec({ offset: 3, limit: 1 })];
      for (const s of specs) {
        const plain = await repo.page(db, s, { deepOffset: 3 });
        const withKeys = await repo.page(db, s, { deepOffset: 3, withKeys: true });
        expect(plain.length).toBeGreaterThan(0);
        expect(strip(withKeys)).toEqual(plain);
        expect(plain[0].key_wrapped).toBeUndefined();
        const pre = prefetchedKeys(withKeys);
        expect(pre.organization).toEqual(organization.map((o) => ({ version: o.version, wrapped_key: o.wrapped_key, mine: o.mine })));
        expect(pre.patients.map((p) => p.patient_id).sort()).toEqual(withKeys.map((r) => r.id).sort());
        for (const p of pre.patients) {
          const s2 = stored.find((x) => x.patient_id === p.patient_id);
          expect(s2 && Buffer.compare(s2.wrapped_key, p.wrapped_key)).toBe(0);
          expect(p.kek_version).toBe(s2?.kek_version);
        }
        // A keyring that never saw the organization decrypts with the prefetched keys, sending nothing.
        const fresh = createPhiKeyring(t.settings);
        let statements = 0;
        const counting = { organizationId: db.organizationId, query: <R>(sql: string, params?: readonly unknown[]) => (statements++, db.query<R>(sql, params)) };
        const got = await fresh.keysFor(counting, withKeys.map((r) => r.id), pre);
        expect(statements).toBe(0);
        const reference = await createPhiKeyring(t.settings).keysFor(db, withKeys.map((r) => r.id));
        for (const r of withKeys) {
          expect(got.get(r.id).available).toBe(true);
          const contact = got.get(r.id).decrypt(r.contact_enc, contactPlace(r.id));
          expect(contact).toContain('@example.test');
          expect(contact).toEqual(reference.get(r.id).decrypt(r.contact_enc, contactPlace(r.id)));
        }
      }
    });
  });
});
