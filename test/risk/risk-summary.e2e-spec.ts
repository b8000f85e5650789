import { Role } from 'src/organizations/organizations.enums';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { bearer, createOrganization, memberToken } from '../auth/auth-fixtures';
import { expectContract } from '../utils/contract';
import { createPatient, upsertMetrics } from '../utils/factories';
import { createTestApp, TestApp, TEST_NOW } from '../utils/test-app';

describe('GET /patients/:organizationId/risk-summary', () => {
  let t: TestApp;
  let orgId: string;
  let analyst: string;
  const ids: string[] = [];

  const LEVELS = ['low', 'low', 'low', 'medium', 'medium', 'high'] as const;
  const TRENDS = ['improving', 'stable', 'stable', 'stable', 'declining', 'declining'] as const;

  beforeAll(async () => {
    t = await createTestApp();
    orgId = (await createOrganization(t.db)).id;
    analyst = await memberToken(t, orgId, Role.Analyst);
    for (let i = 0; i < LEVELS.length; i++) {
      const id = await createPatient(t.db, t.settings, orgId, { name: `Risk ${i}` });
      await upsertMetrics(t.db, orgId, id, {
        riskLevel: LEVELS[i],
        riskScore: LEVELS[i] === 'low' ? 10 : LEVELS[i] === 'medium' ? 50 : 80,
        riskTrend: TRENDS[i],
        status: i % 2 ? 'active' : 'at_risk',
        computedAt: new Date(`2026-11-2${i % 3}T03:00:00Z`),
      });
      ids.push(id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const summary = async (tok = analyst): Promise<{ status: number; body: any }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/risk-summary`, headers: bearer(tok) });
    return { status: res.statusCode, body: res.json() };
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
    const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${orgId}/profiles`, headers: bearer(admin) });
    expect(list.json().summary.total_patients).toBe((await summary()).body.total_patients);
  });

  it('is cached, and a recompute event refreshes it', async () => {
    await t.db.query(`UPDATE patient_metrics SET risk_level = 'high', risk_trend = 'declining', computed_at = $2 WHERE patient_id = $1`, [ids[0], TEST_NOW]);
    // Still the cached figures (the counts table already changed, through its trigger).
    expect((await summary()).body.risk_distribution).toEqual({ low_risk: 3, medium_risk: 2, high_risk: 1 });
    t.app.get(ScoringEvents).recomputed$.next({ organizationId: orgId });
    await new Promise((r) => setTimeout(r, 20));
    const { body } = await summary();
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
