import { Role } from 'src/organizations/organizations.enums';
import { DEFAULT_SCORING_SETTINGS } from 'src/scoring/domain/scoring-settings';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { contractErrors } from 'test/utils/contract';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** GET/PUT /api/v1/organizations/:organizationId/settings: the scoring overrides, validated before they are stored. */
describe('organization settings', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** An organization of its own per test, with other settings beside the scoring ones, and its owner's token. */
  const organization = async (): Promise<{ id: string; owner: string }> => {
    const { id } = await createOrganization(t.db);
    await t.db.query(`UPDATE organizations SET settings = '{"recall_interval_days": 200}' WHERE id = $1`, [id]);
    return { id, owner: await memberToken(t, id, Role.Owner) };
  };
  const url = (id: string): string => `/api/v1/organizations/${id}/settings`;
  const put = (id: string, token: string, payload: unknown) => t.inject({ method: 'PUT', url: url(id), headers: bearer(token), payload: payload as object });
  const stored = async (id: string): Promise<unknown> => (await t.db.query<{ settings: unknown }>(`SELECT settings FROM organizations WHERE id = $1`, [id]))[0].settings;

  it('answers no overrides and the defaults in effect for a new organization', async () => {
    const org = await organization();
    const res = await t.inject({ method: 'GET', url: url(org.id), headers: bearer(org.owner) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ scoring: {}, effective_scoring: { ...DEFAULT_SCORING_SETTINGS } });
  });

  it('stores valid overrides (aliases or full names), keeps the other settings, and answers them in effect', async () => {
    const org = await organization();
    const res = await put(org.id, org.owner, { scoring: { activeDays: 10, dormantDays: 15, declineDropFraction: 0.6 } });
    expect(res.statusCode).toBe(200);
    const expected = {
      scoring: { activeDays: 10, dormantDays: 15, declineDropFraction: 0.6 },
      effective_scoring: { ...DEFAULT_SCORING_SETTINGS, activeWithinDays: 10, atRiskAfterDays: 15, declineDropFraction: 0.6 },
    };
    expect(res.json()).toEqual(expected);
    expect((await t.inject({ method: 'GET', url: url(org.id), headers: bearer(org.owner) })).json()).toEqual(expected);
    expect(await stored(org.id)).toEqual({ recall_interval_days: 200, scoring: { activeDays: 10, dormantDays: 15, declineDropFraction: 0.6 } });
    // {} restores every default.
    expect((await put(org.id, org.owner, { scoring: {} })).json()).toEqual({ scoring: {}, effective_scoring: { ...DEFAULT_SCORING_SETTINGS } });
  });

  it.each([
    ['activeDays equal to dormantDays', { activeDays: 90, dormantDays: 90 }, 'scoring.activeDays'],
    ['activeDays above the default dormantDays', { activeDays: 100 }, 'scoring.activeDays'],
    ['dormantDays below the default activeDays', { dormantDays: 20 }, 'scoring.dormantDays'],
    ['a zero half-life', { halfLifeDays: 0 }, 'scoring.halfLifeDays'],
    ['a zero active window', { activeWithinDays: 0 }, 'scoring.activeWithinDays'],
    ['a negative decline window', { declineRecentWindowDays: -5 }, 'scoring.declineRecentWindowDays'],
    ['a fraction above 1', { referralValueShare: 1.5 }, 'scoring.referralValueShare'],
    ['risk levels the wrong way round', { riskMediumFrom: 70, riskHighFrom: 60 }, 'scoring.riskMediumFrom'],
    ['a fractional count', { declineMinPriorEvents: 2.5 }, 'scoring.declineMinPriorEvents'],
    ['an unknown key', { activeDayz: 30 }, 'scoring.activeDayz'],
    ['a number as text', { activeDays: '30' }, 'scoring.activeDays'],
    ['one setting twice', { activeDays: 20, activeWithinDays: 20 }, 'scoring.activeWithinDays'],
  ])('refuses %s with a 400 problem naming the field, and stores nothing', async (_case, scoring, field) => {
    const org = await organization();
    const res = await put(org.id, org.owner, { scoring });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(contractErrors('common.schema.json#/$defs/problem', res.json())).toEqual([]);
    expect(res.json().errors.map((e: { in: string; field: string }) => [e.in, e.field])).toEqual([['body', field]]);
    expect(await stored(org.id)).toEqual({ recall_interval_days: 200 });
  });

  it('refuses a body without scoring, or with other keys', async () => {
    const org = await organization();
    for (const [payload, field] of [
      [{}, 'scoring'],
      [{ scoring: [1, 2] }, 'scoring'],
      [{ scoring: {}, recall_interval_days: 10 }, 'recall_interval_days'],
    ] as const) {
      const res = await put(org.id, org.owner, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(await stored(org.id)).toEqual({ recall_interval_days: 200 });
  });

  it('needs org:manage, and records each change in the audit trail', async () => {
    const org = await organization();
    const admin = await memberToken(t, org.id, Role.Admin);
    expect((await t.inject({ method: 'GET', url: url(org.id), headers: bearer(admin) })).statusCode).toBe(403);
    expect((await put(org.id, admin, { scoring: { activeDays: 20 } })).statusCode).toBe(403);
    expect((await put(org.id, org.owner, { scoring: { activeDays: 20 } })).statusCode).toBe(200);
    const events = await t.db.query<{ action: string; resource: string; outcome: string; status_code: number }>(
      `SELECT action, resource, outcome, status_code FROM audit_events WHERE organization_id = $1 AND resource = 'organization_settings' ORDER BY seq`,
      [org.id],
    );
    expect(events.filter((e) => e.status_code === 200)).toEqual([{ action: 'update', resource: 'organization_settings', outcome: expect.any(String), status_code: 200 }]);
  });
});
