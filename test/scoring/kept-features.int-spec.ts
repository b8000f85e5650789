import { Client } from 'pg';
import { seedOrganization } from 'src/demo-data/seed';
import { scoringSettings, type ScoringSettings } from 'src/scoring/domain/scoring-settings';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { FEATURE_COLUMNS, type FeatureRow } from 'src/scoring/features/feature-row';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { GENERIC_PLAN_IDS, readChunk } from 'src/scoring/recompute/read-chunk';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { TEST_NOW } from 'test/utils/test-app';
import { eventually } from 'test/utils/eventually';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import { appointment, communication, daysAgo, recomputeOrganizationWithUrl, referral, survey, tenantConnection, ALL_PATIENTS, daysAfter, seedCipher } from 'test/scoring/scoring-fixtures';

const DAY = 86_400_000;
const cipher = seedCipher();
const ALL = ALL_PATIENTS;
const at = (days: number): Date => daysAfter(TEST_NOW, days);

/**
 * Kept features (migration 1795566805000, keptFeaturesQuery): rolled forward, they equal the features read afresh
 * from the records, field by field, on a generated clinic over days, weeks and months; a change to a patient's
 * records, preferred channel or the settings makes them read afresh; a run rolling them forward stores exactly what
 * a run reading every record stores.
 */
describe('kept features', () => {
  let db: TestDatabase;
  /** The organization's own connection, as the runtime role (row-level security), as an organization-wide run reads. */
  let client: BatchTenantConnection;
  const repo = new FeaturesRepository();
  let org: string;
  const settings = scoringSettings();
  const keep = { settingsKey: keptFeaturesKey(settings) };

  beforeAll(async () => {
    db = await createTestDatabase();
    // 400 patients with a few years of history each, dated around TEST_NOW (scheduled appointments ahead of it).
    org = (await seedOrganization(db.url, { slug: 'kept', name: 'Kept', patients: 400, seed: 11, now: TEST_NOW, cipher, chunkSize: 200 })).organizationId;
    client = await tenantConnection(db.url, org);
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  const fresh = async (now: Date, s: ScoringSettings = settings): Promise<Map<string, FeatureRow>> =>
    new Map((await repo.features(client, ALL, now, s, 'UTC', { referredNet: false })).map((r) => [r.patientId, r]));
  const keepAll = (now: Date): Promise<FeatureRow[]> => repo.features(client, ALL, now, settings, 'UTC', { referredNet: false, keep });
  const kept = (now: Date, s: ScoringSettings = settings) => repo.keptFeatures(client, ALL, now, s, 'UTC');
  const patients = async (): Promise<string[]> =>
    (await db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id`, [org])).map((r) => r.id);

  /**
   * Every field equal; numbers to 1e-9 relative. Rolled forward, the recency-weighted sums are products rather than
   * sums (and the satisfaction a ratio of two), and SQL's sums and averages depend on the order it adds the rows in,
   * which differs between a read of some patients and of a range: the last bits differ, not the values.
   */
  const expectSameFeatures = (rolled: FeatureRow, read: FeatureRow): void => {
    for (const field of FEATURE_COLUMNS) {
      const a = rolled[field];
      const b = read[field];
      if (typeof a === 'number' && typeof b === 'number') {
        expect({ field, close: Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) }).toEqual({ field, close: true });
      } else {
        expect({ field, value: a }).toEqual({ field, value: b });
      }
    }
  };

  it('rolled forward, equal the features read from the records, until the first date that changes them', async () => {
    const ids = await patients();
    const first = await keepAll(TEST_NOW);
    expect(first).toHaveLength(ids.length);
    // Over a day, a week, five weeks, four months and a year, each time keeping the patients read afresh.
    for (const days of [1, 7, 36, 120, 365]) {
      const now = at(days);
      const { rows, unkept } = await kept(now);
      expect(rows.length + unkept.length).toBe(ids.length);
      expect(new Set([...rows.map((r) => r.patientId), ...unkept])).toEqual(new Set(ids));
      const read = await fresh(now);
      for (const row of rows) expectSameFeatures(row, read.get(row.patientId)!);
      // Some are kept, some not: the test exercises both sides at every step.
      expect(rows.length).toBeGreaterThan(0);
      expect(unkept.length).toBeGreaterThan(0);
      const reread = await repo.features(client, { kind: 'ids', ids: unkept }, now, settings, 'UTC', { referredNet: false, hasMetrics: true, keep });
      expect(reread.map((r) => r.patientId).sort()).toEqual([...unkept].sort());
      for (const row of reread) expectSameFeatures(row, read.get(row.patientId)!);
    }
  });

  it("reads a night's few expired patients on the features statement's generic plan, with the rows a plan of their own gives", async () => {
    await keepAll(TEST_NOW);
    const now = at(1);
    const expected = (await kept(now)).unkept;
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThanOrEqual(GENERIC_PLAN_IDS);
    // As a nightly run reads: its statements prepared on the connection (a handle of its own, not the suite's).
    const own = await tenantConnection(db.url, org);
    try {
      own.prepareStatements();
      const options = { settings, timeZone: 'UTC', reuse: true, keep };
      const { rows, kept: rolled } = await readChunk(new ScoringRepositories(), own, ALL, now, options);
      expect(rows).toHaveLength(rolled + expected.length);
      // The re-read by id ran on a generic plan, and no statement of the read planned one of its own for it.
      const plans = await own.query<{ statement: string; generic: number; custom: number }>(
        `SELECT statement, generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements`,
      );
      const reread = plans.filter((p) => p.statement.includes('= ANY('));
      expect(reread.map((p) => ({ generic: p.generic, custom: p.custom }))).toEqual([{ generic: 1, custom: 0 }]);
      // The same rows as the features read afresh from the records.
      const read = await fresh(now);
      for (const row of rows) expectSameFeatures(row, read.get(row.patientId)!);
    } finally {
      await own.end();
    }
  });

  it('keeps nothing past a scheduled appointment or a window edge, and keeps those without any for good', async () => {
    await keepAll(TEST_NOW);
    const rows = await db.query<{ valid_until: Date | null; next: Date | null }>(
      `SELECT f.valid_until, (SELECT min(starts_at) FROM appointments a WHERE a.patient_id = f.patient_id AND a.starts_at > $2) AS next
         FROM patient_features f WHERE f.organization_id = $1`,
      [org, TEST_NOW],
    );
    // Never past the next appointment of the patient, whatever its status.
    const withNext = rows.filter((r) => r.next !== null);
    expect(withNext.length).toBeGreaterThan(10);
    expect(withNext.filter((r) => r.valid_until === null || r.valid_until.getTime() > r.next!.getTime())).toEqual([]);
    expect(rows.some((r) => r.valid_until === null)).toBe(true);
  });

  it('keeps a patient with a plan under way, its progress computed at the later instant as a read of the records computes it', async () => {
    await keepAll(TEST_NOW);
    const moving = (
      await db.query<{ patient_id: string }>(
        `SELECT DISTINCT patient_id FROM treatment_plans WHERE organization_id = $1 AND status = 'active' AND started_at <= $2 AND ends_at > $2 AND ends_at > started_at`,
        [org, TEST_NOW],
      )
    ).map((r) => r.patient_id);
    expect(moving.length).toBeGreaterThan(0);
    const stored = await db.query<{ patient_id: string; plans: number[][] | null }>(
      `SELECT patient_id, moving_plans AS plans FROM patient_features WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])`,
      [org, moving],
    );
    expect(stored).toHaveLength(moving.length);
    for (const row of stored) expect(row.plans?.length).toBeGreaterThan(0);
    // A second, a day and a week later (before the next dated row of most of them): kept, and equal to a fresh read.
    const keptAt = async (later: number): Promise<FeatureRow[]> => {
      const now = new Date(TEST_NOW.getTime() + later);
      const keptMoving = (await kept(now)).rows.filter((r) => moving.includes(r.patientId));
      const read = await fresh(now);
      for (const row of keptMoving) expectSameFeatures(row, read.get(row.patientId)!);
      return keptMoving;
    };
    expect(await keptAt(1000)).toHaveLength(moving.length);
    expect((await keptAt(DAY)).length).toBeGreaterThan(0);
    const week = await keptAt(7 * DAY);
    expect(week.length).toBeGreaterThan(0);
    // The plans' terms did move: the sums are not those kept.
    const first = new Map((await kept(TEST_NOW)).rows.map((r) => [r.patientId, r]));
    expect(week.some((r) => r.planSessionsDue !== first.get(r.patientId)!.planSessionsDue)).toBe(true);
  });

  it('reads a patient afresh once their records, preferred channel or the settings change', async () => {
    const now = at(1);
    await keepAll(TEST_NOW);
    const ids = (await kept(now)).rows.map((r) => r.patientId);
    // b and f among the kept patients with payments and appointments: the UPDATE and DELETE triggers are exercised.
    const withRows = async (table: string): Promise<string[]> =>
      (await db.query<{ id: string }>(`SELECT DISTINCT patient_id AS id FROM ${table} WHERE patient_id = ANY($1::uuid[])`, [ids])).map((r) => r.id);
    const b = (await withRows('payments'))[0];
    const f = (await withRows('appointments')).find((id) => id !== b)!;
    const [a, c, d, e, g] = ids.filter((id) => id !== b && id !== f);
    await appointment(db, org, a, daysAgo(now, 2), 'completed', 9_000);
    await db.query(`UPDATE payments SET status = 'failed' WHERE id = (SELECT id FROM payments WHERE patient_id = $1 LIMIT 1)`, [b]);
    await communication(db, org, c, { at: daysAgo(now, 1), direction: 'inbound', channel: 'sms', kind: 'message' });
    await survey(db, org, d, { at: daysAgo(now, 1), satisfaction: 1, complaint: true });
    const referred = ids.filter((id) => ![a, b, c, d, e, f, g].includes(id))[0];
    await referral(db, org, e, referred, daysAgo(now, 1));
    await db.query(`DELETE FROM appointments WHERE id = (SELECT id FROM appointments WHERE patient_id = $1 LIMIT 1)`, [f]);
    await db.query(`UPDATE patients SET preferred_channel = CASE preferred_channel WHEN 'sms' THEN 'email' ELSE 'sms' END WHERE id = $1`, [g]);
    const after = await kept(now);
    for (const id of [a, b, c, d, e, f, g]) expect(after.unkept).toContain(id);
    // The others stay kept (the referred patient's own records did not change).
    expect(after.rows.map((r) => r.patientId)).toContain(referred);
    expect(after.unkept.length).toBeLessThan(ids.length);
    const read = await fresh(now);
    for (const row of after.rows) expectSameFeatures(row, read.get(row.patientId)!);
    // Other settings: nothing is kept for them.
    const longer = scoringSettings({ decayHalfLifeDays: settings.decayHalfLifeDays * 2 });
    expect((await kept(now, longer)).rows).toHaveLength(0);
  });

  it('never overwrites a change committed after the read began, and a bulk load skips the triggers', async () => {
    const now = at(1);
    await keepAll(TEST_NOW);
    const [x, y] = (await kept(now)).rows.map((r) => r.patientId);
    // A writer adds an appointment for x and holds its transaction open (its tombstone row locked).
    const writer = new Client({ connectionString: db.url, options: '-c timezone=UTC' });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
         VALUES ($1, 'test', 'race-1', $2, $3, 'visit', 'completed', 5000)`,
        [org, x, daysAgo(now, 1)],
      );
      // The recompute reads x without that appointment, then waits on the tombstone's lock to write its kept row.
      const readerPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
      const reading = repo.features(client, { kind: 'ids', ids: [x, y] }, now, settings, 'UTC', { referredNet: false, hasMetrics: true, keep });
      // Commit only once the read is waiting on that lock (not after a guessed sleep: on a loaded machine the read
      // might not have reached it yet, and the test would then check nothing).
      await eventually(
        async () => (await db.query<{ w: string | null }>(`SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1`, [readerPid]))[0]?.w,
        (wait) => wait === 'Lock',
        { what: 'the read waiting on the tombstone lock' },
      );
      await writer.query('COMMIT');
      await reading;
    } finally {
      await writer.end();
    }
    const rows = await db.query<{ patient_id: string; computed_for: Date | null }>(
      `SELECT patient_id, computed_for FROM patient_features WHERE patient_id = ANY($1::uuid[])`,
      [[x, y]],
    );
    const byId = new Map(rows.map((r) => [r.patient_id, r.computed_for]));
    expect(byId.get(x)).toBeNull(); // the tombstone stands: x is read afresh next time
    expect(byId.get(y)).toEqual(now);
    expect((await kept(now)).unkept).toContain(x);

    // app.bulk_load on (the seed, new patients only): the triggers write nothing.
    await keepAll(now);
    await client.query('BEGIN');
    await client.query(`SET LOCAL app.bulk_load = 'on'`);
    await client.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status) VALUES ($1, 'test', 'bulk-1', $2, $3, 'visit', 'completed')`,
      [org, y, daysAgo(now, 1)],
    );
    await client.query('COMMIT');
    expect((await db.query<{ c: Date | null }>(`SELECT computed_for AS c FROM patient_features WHERE patient_id = $1`, [y]))[0].c).toEqual(now);
  });

  it('a run rolling kept features forward stores exactly what a run reading every record stores', async () => {
    const snapshot = async (): Promise<string> =>
      (
        await db.query<{ h: string }>(
          `SELECT md5(string_agg(row(m.patient_id, sort_name, status, risk_score, risk_level, risk_factors, risk_trend, engagement_score, ltv_cents,
                  historical_revenue_cents, future_value_cents, referral_value_cents, total_sessions, avg_session_value_cents, last_appointment_at,
                  next_appointment_at, last_contact_at, success_probability, first_visit_at)::text, ',' ORDER BY m.patient_id)) AS h
             FROM patient_metrics m WHERE organization_id = $1`,
          [org],
        )
      )[0].h;
    // Chunks of 100 patients (four chunks, two connections), as at scale.
    const run = (now: Date, reuseFeatures: boolean) => recomputeOrganizationWithUrl(db.url, org, now, { vacuum: false, chunkSize: 100, reuseFeatures });
    expect(await run(at(2), false)).toMatchObject({ featuresKept: 0 });
    const rolled = await run(at(3), true);
    expect(rolled.featuresKept).toBeGreaterThan(rolled.patients / 2);
    const rolledMetrics = await snapshot();
    expect(await run(at(3), false)).toMatchObject({ featuresKept: 0, patients: rolled.patients });
    expect(await snapshot()).toBe(rolledMetrics);
  });
});
