import { TenantDb } from 'src/database/tenant/tenant-db';
import { PatientsRepository } from 'src/patients/patients.repository';
import type { ListSpec } from 'src/patients/profile-list';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { recordSentStatements } from 'test/utils/sent-statements';
import { createTestApp, TestApp } from 'test/utils/test-app';

interface Page {
  patients: { id: string; name: string; email: string | null; risk_score: number; status: string }[];
  total_count: number;
  next_cursor: string | null;
}

const people = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    record_type: 'patient',
    source: 'ehr',
    external_id: `${prefix}${i}`,
    name: `${prefix.toUpperCase()} Person ${String.fromCharCode(65 + i)}`,
    email: `${prefix}${i}@example.test`,
  }));

/**
 * The list's page statement prepared (docs/scaling.md, "A clinic's first list request, cheaper"): the first and cursor
 * pages without a name search are sent as `EXECUTE` of a statement prepared once per connection, one for every
 * organization; once the server plans it generically, each organization still gets its own rows, the same as the
 * statement with its literals returns. A name search and a page that skips rows keep their literals.
 */
describe('patient list: the page statement prepared, one plan for every clinic', () => {
  let t: TestApp;
  const orgs: { id: string; token: string }[] = [];
  const sent: string[] = [];

  beforeAll(async () => {
    // One pooled connection: every request below runs on it, so its prepared statements reach their generic plan.
    t = await createTestApp({ env: { PATIENT_PAGE_CACHE_ENTRIES: '0', DATABASE_POOL_SIZE: '1' } });
    for (const [prefix, n] of [['a', 5], ['b', 7]] as const) {
      const id = (await createOrganization(t.db)).id;
      const token = await memberToken(t, id, 'admin');
      const res = await t.inject({ method: 'POST', url: `/api/v1/ingest/${id}/records`, headers: bearer(token), payload: { records: people(prefix, n) } });
      expect(res.statusCode).toBe(200);
      orgs.push({ id, token });
    }
    recordSentStatements((text) => sent.push(text));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  const list = async (org: { id: string; token: string }, q: string): Promise<{ page: Page; statements: string[] }> => {
    sent.length = 0;
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/profiles${q}`, headers: bearer(org.token) });
    expect(res.statusCode).toBe(200);
    return { page: res.json<Page>(), statements: [...sent] };
  };
  /** The page's rows as the statement with its literals reads them (not prepared), for comparison. */
  const inline = (org: string, spec: ListSpec) =>
    t.app.get(TenantDb).statements(org, async (db) => (await t.app.get(PatientsRepository).page(db, spec)).map((r) => r.id));
  const preparedStatements = () =>
    t.app
      .get(TenantDb)
      .statements(orgs[0].id, (db) =>
        db.query<{ name: string; generic_plans: number; custom_plans: number }>(
          `SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name LIKE 's:patients-page-%'`,
        ),
      );

  it.each([
    ['?sort=name&limit=3', { sort: 'name', order: 'asc', status: null, limit: 3 }],
    ['?sort=risk_score&order=desc&limit=4', { sort: 'risk_score', order: 'desc', status: null, limit: 4 }],
    ['?sort=ltv&order=asc&limit=2', { sort: 'ltv', order: 'asc', status: null, limit: 2 }],
    ['?sort=name&order=desc&status=active&limit=3', { sort: 'name', order: 'desc', status: 'active', limit: 3 }],
  ] as const)('%s: EXECUTE of one prepared statement for both clinics, their own rows, as with literals, past the generic plan', async (q, s) => {
    const spec: ListSpec = { ...s, search: null, offset: 0, after: null } as ListSpec;
    const expected = await Promise.all(orgs.map((o) => inline(o.id, spec)));
    expect(expected[0].length).toBeGreaterThan(0);
    const names = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const k = i % 2;
      const { page, statements } = await list(orgs[k], q);
      expect(page.patients.map((p) => p.id)).toEqual(expected[k].slice(0, spec.limit));
      // Each clinic sees only its own patients (row-level security and the organization parameter, generic plan or not).
      expect(page.patients.every((p) => p.name.startsWith(k === 0 ? 'A ' : 'B '))).toBe(true);
      const pageMessages = statements.filter((m) => /EXECUTE "s:patients-page-/.test(m));
      expect(pageMessages).toHaveLength(1);
      // The page's text went only in the PREPARE of its connection's first run (a message of its own).
      expect(pageMessages[0].slice(pageMessages[0].indexOf('SELECT set_config('))).not.toMatch(/WITH page/);
      // (each clinic's first request in this process reads its keys with the page: a statement of its own)
      if (i >= 2) names.add(/EXECUTE "(s:patients-page-[0-9a-f]+)"/.exec(pageMessages[0])?.[1] as string);
    }
    expect(names.size).toBe(1);
    const [name] = names;
    expect((await preparedStatements()).find((p) => p.name === name)?.generic_plans).toBeGreaterThan(0);
  });

  it('a cursor page (the cursor as parameters) is prepared and tiles the list as with literals', async () => {
    const seen: string[] = [];
    for (let round = 0; round < 4; round++) {
      const org = orgs[1];
      seen.length = 0;
      let q = '?sort=risk_score&order=desc&limit=2';
      for (;;) {
        const { page, statements } = await list(org, q);
        seen.push(...page.patients.map((p) => p.id));
        expect(statements.filter((m) => /EXECUTE "s:patients-page-/.test(m))).toHaveLength(1);
        if (!page.next_cursor) break;
        q = `?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`;
      }
      expect(seen).toEqual(await inline(org.id, { sort: 'risk_score', order: 'desc', status: null, search: null, limit: 100, offset: 0, after: null }));
    }
  });

  it('a name search and a page that skips rows keep their literals (no prepared statement)', async () => {
    const search = await list(orgs[0], '?sort=name&search=a%20person&limit=3');
    expect(search.page.patients.length).toBeGreaterThan(0);
    expect(search.statements.some((m) => /EXECUTE "s:patients-page-/.test(m))).toBe(false);
    expect(search.statements.some((m) => /WITH page AS MATERIALIZED[\s\S]*LIKE/.test(m))).toBe(true);
    const skipped = await list(orgs[0], '?sort=name&limit=2&offset=2');
    expect(skipped.page.patients.map((p) => p.id)).toEqual(
      (await inline(orgs[0].id, { sort: 'name', order: 'asc', status: null, search: null, limit: 100, offset: 0, after: null })).slice(2, 4),
    );
    expect(skipped.statements.some((m) => /EXECUTE "s:patients-page-/.test(m))).toBe(false);
  });
});
