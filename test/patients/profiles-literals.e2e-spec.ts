import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * The list's statements carry their parameters as SQL literals (TenantDb.readStatements): names with quotes and
 * backslashes must come back unchanged through a search prefix and through cursors whose key holds them.
 */
describe('patient list: quotes and backslashes in searches and cursor keys', () => {
  let t: TestApp;
  let orgId: string;
  let token: string;
  const NAMES = ["O'Brien", "O'Brien \\ Jr", 'Obi', "d'Amore %_"];

  beforeAll(async () => {
    t = await createTestApp({ env: { PATIENT_PAGE_CACHE_ENTRIES: '0' } });
    orgId = (await createOrganization(t.db)).id;
    token = await memberToken(t, orgId, Role.FrontDesk);
    for (const name of NAMES) {
      const id = await createPatient(t.db, t.settings, orgId, { name });
      await upsertMetrics(t.db, orgId, id, { status: 'active', ltvCents: 100, riskScore: 10, riskLevel: 'low', lastAppointmentAt: null, totalSessions: 0 });
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const list = async (query: string): Promise<{ patients: { name: string }[]; total_count: number; next_cursor: string | null }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profiles?${query}`, headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('finds names by a prefix holding a quote, a backslash or LIKE wildcards, and nothing else', async () => {
    expect((await list(`search=${encodeURIComponent("o'")}`)).patients.map((p) => p.name)).toEqual(["O'Brien", "O'Brien \\ Jr"]);
    expect((await list(`search=${encodeURIComponent("o'brien \\")}`)).patients.map((p) => p.name)).toEqual(["O'Brien \\ Jr"]);
    expect((await list(`search=${encodeURIComponent("d'amore %")}`)).patients.map((p) => p.name)).toEqual(["d'Amore %_"]);
    expect((await list(`search=${encodeURIComponent("o'%")}`)).total_count).toBe(0);
  });

  it('pages one patient at a time by cursor through keys with quotes and backslashes', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(cursor ? `limit=1&cursor=${cursor}` : 'limit=1&sort=name');
      seen.push(...page.patients.map((p) => p.name));
      cursor = page.next_cursor;
    } while (cursor !== null && seen.length < 10);
    expect(seen).toEqual(["d'Amore %_", "O'Brien", "O'Brien \\ Jr", 'Obi']);
  });
});
