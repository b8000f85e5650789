import { ScoringService } from 'src/scoring/scoring.service';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { appointment, daysAgo, metrics, patient, scoringOrganization } from 'test/scoring/scoring-fixtures';

/** Status boundaries as stored in patient_metrics after a recompute, with the test app's fixed clock. */
describe('recompute: patient status at its boundaries', () => {
  let t: TestApp;
  let scoring: ScoringService;
  let org: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp();
    scoring = t.app.get(ScoringService);
    org = await scoringOrganization(t.db);
    for (const days of [29, 30, 31, 89, 90, 91]) {
      ids[`visit${days}`] = await patient(t.db, org, { name: `Visit ${days}` });
      await appointment(t.db, org, ids[`visit${days}`], daysAgo(TEST_NOW, days));
    }
    ids.upcoming = await patient(t.db, org, { name: 'Upcoming' });
    await appointment(t.db, org, ids.upcoming, daysAgo(TEST_NOW, 200));
    await appointment(t.db, org, ids.upcoming, daysAgo(TEST_NOW, -3), 'scheduled');
    ids.newcomer = await patient(t.db, org, { name: 'Newcomer', registeredAt: daysAgo(TEST_NOW, 10) });
    ids.forgotten = await patient(t.db, org, { name: 'Forgotten', registeredAt: daysAgo(TEST_NOW, 400) });
  });
  afterAll(() => t.close());

  const expected: [string, string][] = [
    ['visit29', 'active'],
    ['visit30', 'dormant'],
    ['visit31', 'dormant'],
    ['visit89', 'dormant'],
    ['visit90', 'at_risk'],
    ['visit91', 'at_risk'],
    ['upcoming', 'active'],
    ['newcomer', 'active'],
    ['forgotten', 'at_risk'],
  ];

  it('recomputePatients writes the status of each patient (request path, runtime role)', async () => {
    await scoring.recomputePatients(org, Object.values(ids));
    for (const [key, status] of expected) {
      const row = await metrics(t.db, ids[key]);
      expect({ key, status: row?.status }).toEqual({ key, status });
      expect(row?.stale).toBe(false);
      expect(row?.computed_at?.toISOString()).toBe(TEST_NOW.toISOString());
    }
  });

  it('recomputeOrganization gives the same statuses and a row for every live patient', async () => {
    await t.db.query(`DELETE FROM patient_metrics WHERE organization_id = $1`, [org]);
    const result = await scoring.recomputeOrganization(org);
    expect(result.patients).toBe(Object.keys(ids).length);
    for (const [key, status] of expected) {
      expect({ key, status: (await metrics(t.db, ids[key]))?.status }).toEqual({ key, status });
    }
  });

  it('a day later the time-based statuses move on (29 → dormant, 89 → at risk)', async () => {
    t.clock.advanceDays(1);
    try {
      await scoring.recomputeOrganization(org);
      expect((await metrics(t.db, ids.visit29))?.status).toBe('dormant');
      expect((await metrics(t.db, ids.visit89))?.status).toBe('at_risk');
    } finally {
      t.clock.set(TEST_NOW);
    }
  });
});
