import { TenantDb } from 'src/database/tenant/tenant-db';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { recordSentStatements } from 'test/utils/sent-statements';
import { createTestApp, TestApp } from 'test/utils/test-app';

const records = (prefix: string, n: number): Record<string, unknown>[] =>
  Array.from({ length: n }, (_, i) => [
    { record_type: 'patient', source: 'ehr', external_id: `${prefix}${i}`, name: `${prefix.toUpperCase()} Person ${i}` },
    {
      record_type: 'appointment',
      source: 'ehr',
      external_id: `${prefix}${i}-a`,
      patient_external_id: `${prefix}${i}`,
      starts_at: `2026-10-${String(10 + i).padStart(2, '0')}T09:30:00Z`,
      type: 'Physiotherapy session',
      status: 'completed',
      value: 80 + i,
    },
  ]).flat();

/**
 * The journey's and the profile's statements prepared on the connection (JOURNEY_STATEMENT, `profile`): sent as
 * `EXECUTE` after their first run there, one statement for every clinic (the organization unseen by the planner, the
 * patient a parameter); once the server plans them generically, each clinic still reads only its own patients, and
 * the answers are those of the first, custom-planned runs.
 */
describe('journey and profile: their statements prepared, one plan for every clinic', () => {
  let t: TestApp;
  const orgs: { id: string; token: string; patients: string[] }[] = [];
  const sent: string[] = [];

  beforeAll(async () => {
    // One pooled connection: every request below runs on it, so its prepared statements reach their generic plan.
    t = await createTestApp({ env: { DATABASE_POOL_SIZE: '1' } });
    for (const [prefix, n] of [
      ['a', 3],
      ['b', 4],
    ] as const) {
      const id = (await createOrganization(t.db)).id;
      const token = await memberToken(t, id, 'admin');
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/ingest/${id}/records`,
        headers: bearer(token),
        payload: { records: records(prefix, n) },
      });
      expect(res.statusCode).toBe(200);
      const ids = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY external_id`, [id]);
      orgs.push({ id, token, patients: ids.map((r) => r.id) });
    }
    recordSentStatements((text) => sent.push(text));
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  const get = async (
    org: { id: string; token: string },
    path: string,
  ): Promise<{ status: number; body: unknown; statements: string[] }> => {
    sent.length = 0;
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org.id}/${path}`, headers: bearer(org.token) });
    return { status: res.statusCode, body: res.json(), statements: [...sent] };
  };
  const plans = (): Promise<{ name: string; generic_plans: number }[]> =>
    t.app
      .get(TenantDb)
      .statements(orgs[0].id, (db) =>
        db.query<{ name: string; generic_plans: number }>(
          `SELECT name, generic_plans::int FROM pg_prepared_statements WHERE name LIKE 's:%'`,
        ),
      );

  it.each([
    ['journey', /^s:journey$/, /visits/],
    // An admin reads the medical columns: the `profile-medical` text.
    ['profile', /^s:profile-medical$/, /history/],
  ] as const)(
    '%s: EXECUTE of one prepared statement for both clinics, the same answers past the generic plan',
    async (route, name, text) => {
      const path = (patient: string): string => (route === 'journey' ? `journey/${patient}` : `profile/${patient}`);
      const first = new Map<string, unknown>();
      for (let round = 0; round < 4; round++) {
        for (const org of orgs) {
          for (const patient of org.patients) {
            const { status, body, statements } = await get(org, path(patient));
            expect(status).toBe(200);
            if (!first.has(patient)) first.set(patient, body);
            expect(body).toEqual(first.get(patient));
            const executes = statements.filter((m) => [...m.matchAll(/EXECUTE "([^"]+)"\(/g)].some((e) => name.test(e[1])));
            expect(executes).toHaveLength(1);
            // The statement's text went only in the PREPARE of the connection's first run (a message of its own).
            expect(executes[0]).not.toMatch(text);
          }
        }
      }
      expect((await plans()).find((p) => name.test(p.name))?.generic_plans).toBeGreaterThan(0);
      // Each clinic reads only its own patients with the generic plan: another clinic's patient is not found.
      expect((await get(orgs[0], path(orgs[1].patients[0]))).status).toBe(404);
      expect((await get(orgs[1], path(orgs[0].patients[0]))).status).toBe(404);
    },
  );
});
