import { IdentityService } from 'src/auth/identity.service';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { PatientsRepository, prefetchedKeys, type ProfileListRow } from 'src/patients/patients.repository';
import type { ListSpec } from 'src/patients/profile-list';
import { createPhiKeyring, PhiKeyring } from 'src/records/phi/phi-keyring';
import { PhiKeysRepository } from 'src/records/phi/phi-keys.repository';
import { contactPlace } from 'src/records/phi/patient-contact';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { recordSentStatements } from 'test/utils/sent-statements';
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
  /**
   * Every statement the app sends, in order (pg's Client.query, spied in this process), with the list's prepared
   * statements (TenantDb.statements with `prepared`) written out: `EXECUTE "s:<name>"(...)` as the text it was
   * prepared with, the `PREPARE` messages left out (expandPrepared).
   */
  const sent: string[] = [];
  const preparedTexts = new Map<string, string>();

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
    recordSentStatements((text) => {
      const expanded = expandPrepared(text, preparedTexts);
      if (expanded !== null) sent.push(expanded);
    });
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

  it('reads the counts in the page statement\'s message when they are not cached, and the answer keeps its values and order', async () => {
    const before = await list('?sort=risk_score&order=desc&limit=10');
    await t.app.get(PatientCountsService).invalidate(org);
    const after = await list('?sort=risk_score&order=desc&limit=10');
    expect(after.page).toEqual(before.page);
    expect(after.page.total_count).toBe(4);
    expect(after.page.summary.total_patients).toBe(4);
    // One message, the counts' statement first, then the page's: no statement of the counts' own.
    const counts = after.statements.filter((s) => /FROM patient_metric_counts/.test(s));
    expect(counts).toHaveLength(1);
    expect(counts[0]).toMatch(/^SELECT set_config\('app\.organization_id', '[0-9a-f-]{36}', true\), set_config\('max_parallel_workers_per_gather', '0', true\); SELECT status, risk_level[\s\S]*; WITH page AS MATERIALIZED/);
    expect(after.statements.filter((s) => /WITH page/.test(s))).toEqual(counts);
    // Cached now: the next request sends neither the counts nor (page cache off) anything but the page.
    const again = await list('?sort=risk_score&order=desc&limit=10');
    expect(again.page).toEqual(before.page);
    expect(again.statements.filter((s) => /FROM patient_metric_counts/.test(s))).toEqual([]);
  });

  it('on a counts miss, a page of two segments carries the counts in its first statement and answers as before', async () => {
    // No patient has a last appointment: the keyed segment is empty, the page comes from the unkeyed one.
    const q = '?sort=last_appointment&order=desc&limit=3';
    const before = await list(q);
    await t.app.get(PatientCountsService).invalidate(org);
    const after = await list(q);
    expect(after.page).toEqual(before.page);
    expect(after.page.patients).toHaveLength(3);
    expect(after.page.total_count).toBe(4);
    const pages = after.statements.filter((s) => /WITH page/.test(s));
    expect(pages).toHaveLength(2);
    expect(pages[0]).toMatch(/FROM patient_metric_counts/);
    expect(pages[1]).not.toMatch(/FROM patient_metric_counts/);
    expect(after.statements.filter((s) => /FROM patient_metric_counts/.test(s))).toEqual([pages[0]]);
  });

  it('a clinic\'s first request: the membership, one message for the counts, the page and every key, then the audit event, committed before the answer', async () => {
    const other = (await createOrganization(t.db)).id;
    const otherToken = await memberToken(t, other, 'admin');
    const ingest = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${other}/records`,
      headers: bearer(otherToken),
      payload: { records: PEOPLE.map((p) => ({ record_type: 'patient', source: 'ehr', external_id: p.id, name: p.name, email: p.email, phone: p.phone })) },
    });
    expect(ingest.statusCode).toBe(200);
    const events = async (): Promise<{ patient_ids: string[]; outcome: string; actor_id: string | null }[]> =>
      t.db.query(`SELECT patient_ids, outcome, actor_id FROM audit_events WHERE organization_id = $1 AND action = 'list' ORDER BY seq`, [other]);
    expect(await events()).toEqual([]);
    // The ingestion looked the caller's membership up a moment ago (cached 5 s): forgotten, as in a new process.
    const [member] = await t.db.query<{ user_id: string }>(`SELECT user_id FROM memberships WHERE organization_id = $1`, [other]);
    t.app.get(IdentityService).forgetMembership(member.user_id, other);
    sent.length = 0;
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${other}/profiles?sort=name&limit=3`, headers: bearer(otherToken) });
    const statements = [...sent];
    expect(res.statusCode).toBe(200);
    const page = res.json<Page>();
    expect(page.patients.map((p) => [p.name, p.email, p.phone])).toEqual(PEOPLE.slice(0, 3).map((p) => [p.name, p.email, p.phone]));
    expect(page.total_count).toBe(4);
    // The event is there as soon as the answer is: written (committed) before it was sent.
    const written = await events();
    expect(written).toHaveLength(1);
    expect([...written[0].patient_ids].sort()).toEqual(page.patients.map((p) => p.id).sort());
    expect(written[0].outcome).toBe('success');
    // The tenant data in one message: counts, page, patients' and organization's keys.
    const tenantData = statements.filter((s) => /patient_metric_counts|WITH page|patient_keys|organization_keys/.test(s));
    expect(tenantData).toHaveLength(1);
    expect(tenantData[0]).toMatch(/FROM patient_metric_counts[\s\S]*WITH page AS MATERIALIZED[\s\S]*LEFT JOIN patient_keys pk/);
    expect(statements.filter((s) => /FROM memberships/.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /audit_append_batch/.test(s))).toHaveLength(1);
    // The second request: the same answer, no membership, counts or keys read again (page cache off: the page is).
    sent.length = 0;
    const warm = await t.inject({ method: 'GET', url: `/api/v1/patients/${other}/profiles?sort=name&limit=3`, headers: bearer(otherToken) });
    expect(warm.json<Page>()).toEqual(page);
    expect(sent.filter((s) => /patient_metric_counts|patient_keys|organization_keys|FROM memberships/.test(s))).toEqual([]);
    expect(await events()).toHaveLength(2);
  });

  it('TenantDb.statements sends a leading statement in the message of the first one, under the same tenant setting', async () => {
    const tenants = t.app.get(TenantDb);
    const other = (await createOrganization(t.db)).id;
    let leadRows: Record<string, unknown>[] = [];
    sent.length = 0;
    const rows = await tenants.statements(
      org,
      async (db) => {
        const first = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients`);
        const second = await db.query<{ n: number }>(`SELECT $1::int AS n`, [7]);
        return [first[0].n, second[0].n];
      },
      // No organization filter: row-level security alone limits it to the handle's organization.
      { leading: { text: `SELECT count(*)::int AS n, $1::text AS asked FROM patients`, params: [other], rows: (r) => void (leadRows = r) } },
    );
    expect(rows).toEqual([4, 7]);
    expect(leadRows).toEqual([{ n: 4, asked: other }]);
    expect(sent).toHaveLength(2); // the leading statement went with the first, not alone
    // Work that sends nothing: the leading statement alone.
    sent.length = 0;
    await tenants.statements(other, async () => 'none', { leading: { text: `SELECT count(*)::int AS n FROM patients`, rows: (r) => void (leadRows = r) } });
    expect(leadRows).toEqual([{ n: 0 }]);
    expect(sent).toHaveLength(1);
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

/**
 * A message as if its prepared statements were sent with their texts: a `PREPARE "s:<name>" AS <text>` message
 * noted in `texts` (and left out: null), each `EXECUTE "s:<name>"(<literals>)` replaced by the text (its `$n` as
 * they are).
 */
function expandPrepared(message: string, texts: Map<string, string>): string | null {
  const prepare = /^PREPARE ("s:[^"]+") AS ([\s\S]*)$/.exec(message);
  if (prepare) {
    texts.set(prepare[1], prepare[2]);
    return null;
  }
  return message.replace(/EXECUTE ("s:[^"]+")(?:\((?:'(?:[^']|'')*'|[^)'])*\))?/g, (all, name: string) => texts.get(name) ?? all);
}
