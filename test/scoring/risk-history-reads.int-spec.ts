import { addDays, localDate } from 'src/common/time/calendar';
import { seedOrganization } from 'src/demo-data/seed';
import { scoringSettings } from 'src/scoring/domain/scoring-settings';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import type { FeatureRow } from 'src/scoring/features/feature-row';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { Database } from 'src/database/database';
import { recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import { recomputeOrganizationWithUrl, tenantConnection, ALL_PATIENTS, daysAfter, seedCipher } from 'test/scoring/scoring-fixtures';

const cipher = seedCipher();
const at = (days: number): Date => daysAfter(TEST_NOW, days);

/**
 * The risk history as the features read it (the three per-patient lookups of the features and kept-features
 * statements; a grouped pass per chunk was measured and not kept, issue #23, docs/performance.md) gives each patient
 * the same previousRiskScore and lastRecordedRiskScore as a reference statement written apart below, in every
 * statement that reads them: the features read of an id range and of ids, and the kept features rolled forward (by
 * the lookups, and by a small organization's window pass and one lookup a patient, riskHistoryWindowPass); on a
 * clinic scored over several days, with hand-placed rows on the baseline day, on today, between them and after today.
 * It guards any later rewrite of those lookups.
 */
describe('risk history as the features read it', () => {
  let db: TestDatabase;
  let client: BatchTenantConnection;
  const repo = new FeaturesRepository();
  let org: string;
  const settings = scoringSettings();
  const keep = { settingsKey: keptFeaturesKey(settings) };
  const ALL = ALL_PATIENTS;

  beforeAll(async () => {
    db = await createTestDatabase();
    org = (await seedOrganization(db.url, { slug: 'hist', name: 'Hist', patients: 300, seed: 23, now: TEST_NOW, cipher, chunkSize: 100 }))
      .organizationId;
    // Scored on five days running (each run writes today's history rows for the scores that moved).
    for (let d = 0; d < 5; d++) await recomputeOrganizationWithUrl(db.url, org, at(d));
    client = await tenantConnection(db.url, org);
  });
  afterAll(async () => {
    await client?.end();
    await db.drop();
  });

  /** The rule as per-patient lookups, for every live patient of the organization, as owner (the reference). */
  const reference = async (now: Date): Promise<Map<string, [number | null, number | null]>> => {
    const today = localDate(now, 'UTC');
    const baseline = addDays(today, -settings.riskTrendWindowDays);
    const rows = await db.query<{ id: string; previous: number | null; last: number | null }>(
      `SELECT p.id,
         coalesce(
           (SELECT h.risk_score FROM risk_score_history h
             WHERE h.organization_id = $1 AND h.patient_id = p.id AND h.recorded_on <= $2::date ORDER BY h.recorded_on DESC LIMIT 1),
           (SELECT h.risk_score FROM risk_score_history h
             WHERE h.organization_id = $1 AND h.patient_id = p.id AND h.recorded_on > $2::date AND h.recorded_on < $3::date
             ORDER BY h.recorded_on ASC LIMIT 1)
         ) AS previous,
         (SELECT h.risk_score FROM risk_score_history h
           WHERE h.organization_id = $1 AND h.patient_id = p.id AND h.recorded_on <= $3::date ORDER BY h.recorded_on DESC LIMIT 1) AS last
         FROM patients p WHERE p.organization_id = $1 AND p.deleted_at IS NULL`,
      [org, baseline, today],
    );
    return new Map(rows.map((r) => [r.id, [r.previous, r.last]]));
  };

  const expectSameHistory = (rows: FeatureRow[], expected: Map<string, [number | null, number | null]>): void => {
    const got = rows
      .map((r) => [r.patientId, r.previousRiskScore, r.lastRecordedRiskScore])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const want = rows.map((r) => [r.patientId, ...expected.get(r.patientId)!]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(got).toEqual(want);
  };

  it('gives the scores the per-patient lookups gave, in the range, ids and kept reads, over days', async () => {
    const ids = (
      await db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id`, [org])
    ).map((r) => r.id);
    expect(ids).toHaveLength(300);
    // Hand-placed rows around one patient's baseline day and today (as of day 6), and after today.
    const today6 = localDate(at(6), 'UTC');
    const baseline6 = addDays(today6, -settings.riskTrendWindowDays);
    const place = async (id: string, day: string, score: number): Promise<void> => {
      await db.query(
        `INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score) VALUES ($1, $2, $3::date, $4)
         ON CONFLICT (patient_id, recorded_on) DO UPDATE SET risk_score = EXCLUDED.risk_score`,
        [org, id, day, score],
      );
    };
    await db.query(`DELETE FROM risk_score_history WHERE patient_id = ANY($1::uuid[])`, [ids.slice(0, 6)]);
    await place(ids[0], baseline6, 40.3); // on the baseline day: previous
    await place(ids[0], addDays(baseline6, 1), 50.1);
    await place(ids[0], today6, 60.7); // today: last
    await place(ids[1], addDays(baseline6, 2), 33.3); // only inside the window: previous is the earliest of it
    await place(ids[1], addDays(baseline6, 5), 34.4);
    await place(ids[1], addDays(today6, 2), 99.9); // after today: never read
    await place(ids[2], addDays(baseline6, -40), 12.5); // long before the baseline, nothing since
    await place(ids[3], today6, 77.7); // only today: last, no previous (today is not inside the window)
    await place(ids[4], addDays(today6, 1), 88.8); // only after today: nothing
    // ids[5]: no history at all.

    const seen = { previousNull: 0, previous: 0, lastNull: 0, last: 0 };
    let atDay6: FeatureRow[] = [];
    let wholeAtDay6: FeatureRow[] = [];
    for (const days of [0, 1, 4, 6, 45]) {
      const now = at(days);
      const expected = await reference(now);
      const range = await repo.features(client, ALL, now, settings, 'UTC', { referredNet: false });
      expect(range).toHaveLength(300);
      expectSameHistory(range, expected);
      const some = await repo.features(client, { kind: 'ids', ids: ids.slice(0, 120) }, now, settings, 'UTC', {
        referredNet: false,
        hasMetrics: true,
      });
      expect(some).toHaveLength(120);
      expectSameHistory(some, expected);
      // Two id ranges (the chunks of a run), kept and rolled forward.
      const halves = [
        { kind: 'range' as const, from: null, to: ids[150] },
        { kind: 'range' as const, from: ids[150], to: null },
      ];
      await repo.features(client, ALL, now, settings, 'UTC', { referredNet: false, keep });
      let keptRows = 0;
      for (const half of halves) {
        const k = await repo.keptFeatures(client, half, now, settings, 'UTC');
        keptRows += k.rows.length;
        expectSameHistory(k.rows, expected);
      }
      expect(keptRows).toBeGreaterThan(0);
      // The whole organization as a small clinic's nightly read reads it (the window's pass and one lookup a
      // patient), and by the three lookups: the same rows, and the same values as the reference.
      const whole = await repo.keptFeatures(client, ALL, now, settings, 'UTC', 'window');
      const lookups = await repo.keptFeatures(client, ALL, now, settings, 'UTC');
      expect(whole.rows.length).toBeGreaterThan(0);
      expectSameHistory(whole.rows, expected);
      const byPatient = (rows: FeatureRow[]): FeatureRow[] => [...rows].sort((a, b) => a.patientId.localeCompare(b.patientId));
      expect(byPatient(whole.rows)).toEqual(byPatient(lookups.rows));
      expect([...whole.unkept].sort()).toEqual([...lookups.unkept].sort());
      if (days === 6) wholeAtDay6 = whole.rows;
      for (const [previous, last] of expected.values()) {
        if (previous === null) seen.previousNull++;
        else seen.previous++;
        if (last === null) seen.lastNull++;
        else seen.last++;
      }
      if (days === 6) atDay6 = range;
    }
    // The hand-placed patients, as of day 6: the baseline day's row, the window's earliest, a row long before, today's only.
    const handPlacedExpected = [
      [40.3, 60.7],
      [33.3, 34.4],
      [12.5, 12.5],
      [null, 77.7],
      [null, null],
      [null, null],
    ];
    const byId = new Map(atDay6.map((r) => [r.patientId, r]));
    expect(ids.slice(0, 6).map((id) => [byId.get(id)?.previousRiskScore, byId.get(id)?.lastRecordedRiskScore])).toEqual(handPlacedExpected);
    // The same in the whole organization's kept read by the window's pass (each of them kept, not read afresh).
    const handPlaced = new Map(wholeAtDay6.map((r) => [r.patientId, [r.previousRiskScore, r.lastRecordedRiskScore]]));
    expect(ids.slice(0, 6).map((id) => handPlaced.get(id))).toEqual(handPlacedExpected);
    // Both sides of each column were exercised.
    expect(Object.values(seen).every((n) => n > 0)).toBe(true);
  });

  it("reads a small organization's kept features with the window's pass in its run", async () => {
    const database = new Database({ url: db.url, poolSize: 1, applicationName: 'scoring-test' });
    const repos = new ScoringRepositories();
    const asked: (string | undefined)[] = [];
    const keptFeatures = repos.features.keptFeatures.bind(repos.features);
    repos.features.keptFeatures = (...args: Parameters<typeof keptFeatures>) => {
      asked.push(args[5]);
      return keptFeatures(...args);
    };
    try {
      // After the first test's last instant (day 45): its kept rows are usable, so the kept read is asked for.
      await recomputeOrganization(database, repos, org, at(46), { vacuum: false });
    } finally {
      await database.close();
    }
    // One chunk, read by the window's pass (what it stores against a run reading every record: kept-features.int-spec.ts).
    expect(asked).toEqual(['window']);
  });
});
