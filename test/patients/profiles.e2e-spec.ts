import { Role } from 'src/organizations/organizations.enums';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { PatientsRepository } from 'src/patients/patients.repository';
import type { ListSpec, ProfileSort } from 'src/patients/profile-list';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { expectContract } from 'test/utils/contract';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { iteratePatientProfiles, patientProfilePages, type PatientProfilesQuery, type ProfilesResponse } from '@patient-journey/sdk';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';

const DAY = 86_400_000;
const daysAgo = (d: number): Date => new Date(TEST_NOW.getTime() - d * DAY);

interface Seeded {
  id: string;
  name: string;
  status: 'active' | 'dormant' | 'at_risk';
  ltvCents: number;
  riskScore: number;
  lastAppointmentAt: Date | null;
}

interface ListBody {
  patients: { id: string; name: string; status: string; ltv: number; risk_score: number; last_appointment: string | null; total_sessions: number }[];
  total_count: number;
  has_more: boolean;
  summary: { total_patients: number; active_patients: number; dormant_patients: number; at_risk_patients: number };
  next_cursor: string | null;
}

const NAMES = ['Zoe Adams', 'adam Brown', 'Adam Brown', 'Bea Clark', 'bea clark', 'Carl Diaz', 'Dana Evans', 'Eli Ford', 'Fay Gold', 'Gus Hill', 'Hana Ito', 'Ian Jones', 'Ada Lovelace', 'Alan Turing', 'Al Gore', 'Mo Salah', 'Nia Long', 'Oz Perry'];
const STATUSES = ['active', 'dormant', 'at_risk'] as const;

describe('GET /patients/:organizationId/profiles', () => {
  let t: TestApp;
  let orgId: string;
  let token: string;
  const seeded: Seeded[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    orgId = (await createOrganization(t.db)).id;
    token = await memberToken(t, orgId, Role.FrontDesk);
    for (let i = 0; i < NAMES.length; i++) {
      const id = await createPatient(t.db, t.settings, orgId, { name: NAMES[i] });
      const s: Seeded = {
        id,
        name: NAMES[i],
        status: STATUSES[i % 3],
        // Ties on purpose: equal ltv and risk for several patients, so the id tie-break is exercised.
        ltvCents: [0, 12_550, 12_550, 99_900][i % 4],
        riskScore: [10, 55.5, 55.5, 90][i % 4],
        lastAppointmentAt: i % 5 === 0 ? null : i % 7 === 1 ? daysAgo(3) : daysAgo(i * 11),
      };
      await upsertMetrics(t.db, orgId, id, {
        status: s.status,
        ltvCents: s.ltvCents,
        riskScore: s.riskScore,
        riskLevel: s.riskScore < 34 ? 'low' : s.riskScore < 67 ? 'medium' : 'high',
        lastAppointmentAt: s.lastAppointmentAt,
        totalSessions: i,
      });
      seeded.push(s);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const list = async (query: string, tok = token): Promise<{ status: number; body: ListBody & { errors?: { field: string; message: string }[]; detail?: string } }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profiles${query}`, headers: bearer(tok) });
    return { status: res.statusCode, body: res.json() };
  };

  /** The expected order of a sort, computed here from what was inserted. */
  const expected = (sort: string, order: 'asc' | 'desc', status?: string): string[] => {
    const rows = seeded.filter((s) => !status || s.status === status);
    const key = (s: Seeded): string | number | null =>
      sort === 'name' ? s.name.toLowerCase() : sort === 'ltv' ? s.ltvCents : sort === 'risk_score' ? s.riskScore : s.lastAppointmentAt?.getTime() ?? null;
    const sign = order === 'asc' ? 1 : -1;
    return [...rows]
      .sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        if (ka === null && kb !== null) return 1;
        if (kb === null && ka !== null) return -1;
        if (ka !== null && kb !== null && ka !== kb) return (ka < kb ? -1 : 1) * sign;
        return (a.id < b.id ? -1 : 1) * sign;
      })
      .map((s) => s.id);
  };

  /** The happy path, through the SDK (`listPatientProfiles`). */
  const listBy = async (query: PatientProfilesQuery = {}): Promise<{ status: number; body: ProfilesResponse }> => {
    const api = await sdkClient(t, token);
    const { data, response } = await api.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: orgId }, query } });
    return { status: response.status, body: data! };
  };

  it('answers the contract, sorted by name by default, with the organization summary', async () => {
    const { status, body } = await listBy();
    expect(status).toBe(200);
    expectContract('profiles.schema.json', body);
    expect(body.patients.map((p) => p.id)).toEqual(expected('name', 'asc'));
    expect(body.total_count).toBe(NAMES.length);
    expect(body.has_more).toBe(false);
    expect(body.next_cursor).toBeNull();
    expect(body.summary).toEqual({ total_patients: 18, active_patients: 6, dormant_patients: 6, at_risk_patients: 6 });
    const ada = body.patients.find((p) => p.name === 'Ada Lovelace');
    expect(ada?.ltv).toBe(0);
    expect(body.patients.find((p) => p.name === 'Zoe Adams')?.ltv).toBe(0);
    expect(body.patients.find((p) => p.name === 'adam Brown')?.ltv).toBe(125.5);
  });

  it.each([
    ['name', 'asc'],
    ['name', 'desc'],
    ['ltv', 'desc'],
    ['ltv', 'asc'],
    ['risk_score', 'desc'],
    ['risk_score', 'asc'],
    ['last_appointment', 'desc'],
    ['last_appointment', 'asc'],
  ] as const)('sort=%s order=%s: right order, ties by id', async (sort, order) => {
    const { body } = await listBy({ sort, order });
    expect(body.patients.map((p) => p.id)).toEqual(expected(sort, order));
  });

  it.each(['asc', 'desc'] as const)('sort=last_appointment order=%s: the patients without one come last', async (order) => {
    const { body } = await list(`?sort=last_appointment&order=${order}`);
    const hasOne = body.patients.map((p) => p.last_appointment !== null);
    const firstWithout = hasOne.indexOf(false);
    expect(firstWithout).toBeGreaterThan(0);
    expect(hasOne.slice(firstWithout)).toEqual(Array(hasOne.length - firstWithout).fill(false));
  });

  it('defaults to descending for ltv, risk_score and last_appointment', async () => {
    for (const sort of ['ltv', 'risk_score', 'last_appointment']) {
      const { body } = await list(`?sort=${sort}`);
      expect(body.patients.map((p) => p.id)).toEqual(expected(sort, 'desc'));
    }
  });

  it.each(STATUSES)('status=%s: only those patients; total_count counts the filter, summary the organization', async (st) => {
    const { body } = await list(`?status=${st}&sort=ltv`);
    expect(body.patients.every((p) => p.status === st)).toBe(true);
    expect(body.patients.map((p) => p.id)).toEqual(expected('ltv', 'desc', st));
    expect(body.total_count).toBe(6);
    expect(body.summary.total_patients).toBe(18);
    expect(body.summary[`${st}_patients` as 'active_patients']).toBe(body.total_count);
  });

  it.each(['name', 'ltv', 'risk_score', 'last_appointment'])('sort=%s: offset pages and cursor pages tile the list exactly', async (sort) => {
    for (const st of ['all', 'dormant']) {
      const full = expected(sort, sort === 'name' ? 'asc' : 'desc', st === 'all' ? undefined : st);
      const byOffset: string[] = [];
      for (let offset = 0; offset < full.length + 4; offset += 4) {
        const { body } = await list(`?sort=${sort}&status=${st}&limit=4&offset=${offset}`);
        byOffset.push(...body.patients.map((p) => p.id));
        expect(body.has_more).toBe(offset + body.patients.length < full.length);
      }
      expect(byOffset).toEqual(full);

      // The SDK's iterators follow next_cursor, as a front end pages through a list.
      const api = await sdkClient(t, token);
      const query = { sort, status: st, limit: 4 } as PatientProfilesQuery;
      const pages: ProfilesResponse[] = [];
      for await (const page of patientProfilePages(api, orgId, query)) pages.push(page);
      expect(pages).toHaveLength(Math.max(1, Math.ceil(full.length / 4)));
      expect(pages.map((p) => p.has_more)).toEqual(pages.map((_, i) => i < pages.length - 1));
      expect(pages.flatMap((p) => p.patients.map((x) => x.id))).toEqual(full);
      const byCursor: string[] = [];
      for await (const patient of iteratePatientProfiles(api, orgId, query)) byCursor.push(patient.id);
      expect(byCursor).toEqual(full);
    }
  });

  it('a page from an offset inside the patients without a last appointment continues there', async () => {
    const full = expected('last_appointment', 'desc');
    const { body } = await list(`?sort=last_appointment&limit=2&offset=${full.length - 3}`);
    expect(body.patients.map((p) => p.id)).toEqual(full.slice(full.length - 3, full.length - 1));
  });

  it.each(['name', 'ltv', 'risk_score', 'last_appointment'])(
    'sort=%s: a deep OFFSET page read from the far end of its segment is the same page as the forward read',
    async (sort) => {
      // DEEP_OFFSET is 10,000 in the app; here every offset is "deep", so every position of the little clinic goes
      // through the reversed reads (both segments of last_appointment, both orders, a status, both ends).
      const repo = t.app.get(PatientsRepository);
      const tenantDb = t.app.get(TenantDb);
      let reversedReads = 0;
      for (const order of ['asc', 'desc'] as const) {
        for (const status of [null, 'dormant'] as const) {
          const full = expected(sort, order, status ?? undefined);
          for (const limit of [1, 4]) {
            for (let offset = 1; offset <= full.length + 1; offset++) {
              const spec: ListSpec = { sort: sort as ProfileSort, order, status, search: null, limit, offset, after: null };
              const rows = await tenantDb.read(orgId, (m) => repo.page(m, spec, { deepOffset: 1 }), { snapshot: true });
              expect(rows.map((r) => r.id)).toEqual(full.slice(offset, offset + limit + 1));
              if (offset > full.length / 2) reversedReads++;
            }
          }
        }
      }
      expect(reversedReads).toBeGreaterThan(20);
    },
  );

  it('search: a case-insensitive name prefix, with its own total_count', async () => {
    const { body } = await list('?search=AD');
    expect(body.patients.map((p) => p.name).sort()).toEqual(['Ada Lovelace', 'Adam Brown', 'adam Brown'].sort());
    expect(body.total_count).toBe(3);
    expect(body.summary.total_patients).toBe(18);
    const withStatus = await list('?search=a&status=active&sort=risk_score');
    const names = seeded.filter((s) => s.status === 'active' && s.name.toLowerCase().startsWith('a'));
    expect(withStatus.body.total_count).toBe(names.length);
    expect(new Set(withStatus.body.patients.map((p) => p.id))).toEqual(new Set(names.map((s) => s.id)));
    expect((await list('?search=%25')).body.total_count).toBe(0);
  });

  it('a soft-deleted patient leaves the list and the counts', async () => {
    const id = await createPatient(t.db, t.settings, orgId, { name: 'Temp Orary' });
    await upsertMetrics(t.db, orgId, id, { status: 'active' });
    await t.app.get(PatientCountsService).invalidate(orgId);
    expect((await list('?search=temp')).body.total_count).toBe(1);
    await t.db.query(`UPDATE patients SET deleted_at = now() WHERE id = $1`, [id]);
    await t.app.get(PatientCountsService).invalidate(orgId);
    const { body } = await list('');
    expect(body.patients.map((p) => p.id)).not.toContain(id);
    expect(body.summary.total_patients).toBe(18);
    expect(body.total_count).toBe(18);
  });

  it.each([
    ['limit=0', 'limit', '1 to 1000'],
    ['limit=abc', 'limit', '1 to 1000'],
    ['limit=1001', 'limit', '1 to 1000'],
    ['offset=-1', 'offset', 'at least 0'],
    ['status=foo', 'status', 'active, dormant, at_risk, all'],
    ['sort=bar', 'sort', 'name, ltv, last_appointment, risk_score'],
    ['order=up', 'order', 'asc, desc'],
    ['cursor=not-a-cursor', 'cursor', 'next_cursor'],
    ['cursor=%2F%2F', 'cursor', 'next_cursor'],
    ['unknown=1', 'unknown', ''],
  ])('?%s → 400 problem naming %s', async (query, field, allowed) => {
    const { status, body } = await list(`?${query}`);
    expect(status).toBe(400);
    expect(body.errors?.some((e) => e.field === field && e.message.includes(allowed))).toBe(true);
  });

  it('a rule whose checks share one message lists it once (limit=abc fails IsInt, Min and Max alike)', async () => {
    const { status, body } = await list('?limit=abc');
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ in: 'query', field: 'limit', message: 'limit must be an integer from 1 to 1000' }]);
    expect(body.detail).toBe('limit must be an integer from 1 to 1000');
  });

  it('a cursor used with another sort or an offset → 400 naming cursor', async () => {
    const { body } = await list('?sort=ltv&limit=2');
    const res = await list(`?sort=name&cursor=${body.next_cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].field).toBe('cursor');
    expect((await list(`?offset=2&cursor=${body.next_cursor}`)).status).toBe(400);
  });

  it('analysts (no patients:read) get 403; members of another organization get 403', async () => {
    const analyst = await memberToken(t, orgId, Role.Analyst);
    expect((await list('', analyst)).status).toBe(403);
    const otherOrg = (await createOrganization(t.db)).id;
    const outsider = await memberToken(t, otherOrg, Role.Admin);
    expect((await list('', outsider)).status).toBe(403);
  });
});
