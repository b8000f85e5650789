import { Role } from 'src/organizations/organizations.enums';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { expectContract } from 'test/utils/contract';
import { sdkClient } from 'test/utils/sdk';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';

describe('GET /patients/:organizationId/risk-summary', () => {
  let t: TestApp;
  let orgId: string;
  let analyst: string;

  const LEVELS = ['low', 'low', 'low', 'medium', 'medium', 'high'] as const;
  const TRENDS = ['improving', 'stable', 'stable', 'stable', 'declining', 'declining'] as const;

  /** An organization with the six scored patients above; its id and the patients' ids. */
  const scoredOrganization = async (): Promise<{ orgId: string; ids: string[] }> => {
    const org = (await createOrganization(t.db)).id;
    const patients: string[] = [];
    for (let i = 0; i < LEVELS.length; i++) {
      const id = await createPatient(t.db, t.settings, org, { name: `Risk ${i}` });
      await upsertMetrics(t.db, org, id, {
        riskLevel: LEVELS[i],
        riskScore: LEVELS[i] === 'low' ? 10 : LEVELS[i] === 'medium' ? 50 : 80,
        riskTrend: TRENDS[i],
        status: i % 2 ? 'active' : 'at_risk',
        computedAt: new Date(`2026-11-2${i % 3}T03:00:00Z`),
      });
      patients.push(id);
    }
    return { orgId: org, ids: patients };
  };

  beforeAll(async () => {
    t = await createTestApp();
    ({ orgId } = await scoredOrganization());
    analyst = await memberToken(t, orgId, Role.Analyst);
  });
  afterAll(async () => {
    await t.close();
  });

  /** Through the SDK (`getRiskSummary`): the summary, or the typed problem. */
  const summary = async (tok = analyst, org = orgId): Promise<{ status: number; body: any }> => {
    const api = await sdkClient(t, tok);
    const { data, error, response } = await api.GET('/api/v1/patients/{organizationId}/risk-summary', { params: { path: { organizationId: org } } });
    return { status: response.status, body: data ?? error };
  };

  it('distribution and trends over every patient, each summing to total_patients; analysts may read it', async () => {
    const { status, body } = await summary();
    expect(status).toBe(200);
    expectContract('risk-summary.schema.json', body);
    expect(body).toEqual({
      risk_distribution: { low_risk: 3, medium_risk: 2, high_risk: 1 },
      total_patients: 6,
      risk_trends: { improving: 1, stable: 3, declining: 2 },
      last_calculated: '2026-11-22T03:00:00.000Z',
    });
  });

  it('agrees with the list summary', async () => {
    const admin = await memberToken(t, orgId, Role.Admin);
    const list = await (await sdkClient(t, admin)).GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: orgId } } });
    expect(list.data!.summary.total_patients).toBe((await summary()).body.total_patients);
  });

  it('is cached, and a recompute event refreshes it', async () => {
    // An organization of its own: this test changes a patient's scores.
    const own = await scoredOrganization();
    const tok = await memberToken(t, own.orgId, Role.Analyst);
    expect((await summary(tok, own.orgId)).body.risk_distribution).toEqual({ low_risk: 3, medium_risk: 2, high_risk: 1 });
    await t.db.query(`UPDATE patient_metrics SET risk_level = 'high', risk_trend = 'declining', computed_at = $2 WHERE patient_id = $1`, [own.ids[0], TEST_NOW]);
    // Still the cached figures (the counts table already changed, through its trigger).
    expect((await summary(tok, own.orgId)).body.risk_distribution).toEqual({ low_risk: 3, medium_risk: 2, high_risk: 1 });
    t.app.get(ScoringEvents).recomputed$.next({ organizationId: own.orgId });
    // The event's subscribers drop the cached entries in the background: wait for it (no guessed sleep).
    const body = await eventually(
      async () => (await summary(tok, own.orgId)).body,
      (b) => typeof b.risk_distribution?.high_risk === 'number' && b.risk_distribution.high_risk !== 1,
      { what: 'the risk summary refreshed after the recompute event', intervalMs: 100 },
    );
    expect(body.risk_distribution).toEqual({ low_risk: 2, medium_risk: 2, high_risk: 2 });
    expect(body.risk_trends).toEqual({ improving: 0, stable: 3, declining: 3 });
    expect(body.last_calculated).toBe(TEST_NOW.toISOString());
  });

  it('an organization without scores answers zeros, last_calculated now', async () => {
    const empty = (await createOrganization(t.db)).id;
    const tok = await memberToken(t, empty, Role.Analyst);
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${empty}/risk-summary`, headers: bearer(tok) });
    expect(res.statusCode).toBe(200);
    expectContract('risk-summary.schema.json', res.json());
    expect(res.json()).toEqual({ risk_distribution: { low_risk: 0, medium_risk: 0, high_risk: 0 }, total_patients: 0, risk_trends: { improving: 0, stable: 0, declining: 0 }, last_calculated: TEST_NOW.toISOString() });
  });

  it('front desk (no analytics:read) and other organizations get 403', async () => {
    expect((await summary(await memberToken(t, orgId, Role.FrontDesk))).status).toBe(403);
    const other = (await createOrganization(t.db)).id;
    expect((await summary(await memberToken(t, other, Role.Owner))).status).toBe(403);
  });
});
