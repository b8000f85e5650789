import { Role } from 'src/organizations/organizations.enums';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { createTestApp, TestApp } from 'test/utils/test-app';

interface Page {
  patients: { id: string; name: string; ltv: number }[];
  total_count: number;
}

/**
 * The list's in-process page cache (PATIENT_PAGE_CACHE_*): a repeated page is answered from memory, still audited;
 * the invalidation that every app write path triggers (a recompute's event drops the counts, whose version keys the
 * pages) makes the next answer fresh; turned off, every answer is read.
 */
describe('patient list page cache', () => {
  const setup = async (env: Record<string, string> = {}): Promise<{ t: TestApp; orgId: string; token: string; ids: string[] }> => {
    const t = await createTestApp({ env });
    const orgId = (await createOrganization(t.db)).id;
    const token = await memberToken(t, orgId, Role.FrontDesk);
    const ids: string[] = [];
    for (const [i, name] of ['Ada Lane', 'Bo Reed', 'Cy Moss'].entries()) {
      const id = await createPatient(t.db, t.settings, orgId, { name });
      await upsertMetrics(t.db, orgId, id, { status: 'active', ltvCents: 10_000 * (i + 1), riskScore: 10, riskLevel: 'low', lastAppointmentAt: null, totalSessions: 1 });
      ids.push(id);
    }
    return { t, orgId, token, ids };
  };
  const page = async (t: TestApp, orgId: string, token: string, query = '?sort=name'): Promise<Page> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profiles${query}`, headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    return res.json<Page>();
  };
  const audited = async (t: TestApp, orgId: string): Promise<number> =>
    (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'list'`, [orgId]))[0].n;

  it('answers a repeated page from memory, audits every answer, and reads again after the invalidation', async () => {
    const { t, orgId, token, ids } = await setup();
    try {
      const first = await page(t, orgId, token);
      expect(first.patients.map((p) => p.name)).toEqual(['Ada Lane', 'Bo Reed', 'Cy Moss']);
      // A change the app did not make (no event): the cached page stays as it was.
      await t.db.query(`UPDATE patients SET name = 'Aaron Lane' WHERE id = $1`, [ids[0]]);
      await t.db.query(`UPDATE patient_metrics SET sort_name = 'aaron lane', ltv_cents = 55500 WHERE patient_id = $1`, [ids[0]]);
      expect(await page(t, orgId, token)).toEqual(first);
      // Another query is another entry.
      expect((await page(t, orgId, token, '?sort=ltv')).patients.map((p) => p.ltv)).toEqual([555, 300, 200]);
      expect(await audited(t, orgId)).toBe(3);
      // What a recompute's event does: the counts go, their next load has a new version, the pages are read again.
      await t.app.get(PatientCountsService).invalidate(orgId);
      const fresh = await page(t, orgId, token);
      expect(fresh.patients.map((p) => [p.name, p.ltv])).toEqual([['Aaron Lane', 555], ['Bo Reed', 200], ['Cy Moss', 300]]);
      expect(await audited(t, orgId)).toBe(4);
    } finally {
      await t.close();
    }
  });

  it('keeps nothing when turned off (PATIENT_PAGE_CACHE_ENTRIES=0), nor pages above 200 rows', async () => {
    const off = await setup({ PATIENT_PAGE_CACHE_ENTRIES: '0' });
    try {
      await page(off.t, off.orgId, off.token);
      await off.t.db.query(`UPDATE patients SET name = 'Aaron Lane' WHERE id = $1`, [off.ids[0]]);
      expect((await page(off.t, off.orgId, off.token)).patients[0].name).toBe('Aaron Lane');
    } finally {
      await off.t.close();
    }
    const on = await setup();
    try {
      await page(on.t, on.orgId, on.token, '?sort=name&limit=201');
      await on.t.db.query(`UPDATE patients SET name = 'Aaron Lane' WHERE id = $1`, [on.ids[0]]);
      expect((await page(on.t, on.orgId, on.token, '?sort=name&limit=201')).patients[0].name).toBe('Aaron Lane');
    } finally {
      await on.t.close();
    }
  });
});
