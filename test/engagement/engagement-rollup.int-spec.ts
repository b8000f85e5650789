import { localDate, nextDay } from 'src/common/time/calendar';
import { resolveWindow } from 'src/engagement/domain/engagement-window';
import type { Granularity } from 'src/engagement/domain/engagement-window';
import { EngagementFacts, EngagementQuery, EngagementRepository } from 'src/engagement/engagement.repository';
import { EngagementRollupRepository } from 'src/engagement/engagement-rollup.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { Database } from 'src/database/database';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source-options';
import { EngagementPatientDaysPartitions1795568500000 } from 'src/database/migrations/1795568500000-EngagementPatientDaysPartitions';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/**
 * The rollup answers every window, granularity and time zone exactly as the statement over the visits does
 * (ENGAGEMENT_ROLLUP_SQL against ENGAGEMENT_SQL), on a generated clinic in America/New_York (DST changes, visits
 * near local midnight, completed visits after "now", soft-deleted patients without metrics), and keeps doing so
 * when its cutoff is old, after it moves, and after patches.
 */
describe('engagement rollup', () => {
  let t: TestApp;
  /** The repositories on the organization's tenant handle, as the services call them. */
  let overview: { facts(org: string, q: EngagementQuery, o?: { rollup?: boolean }): ReturnType<EngagementRepository['facts']> };
  let rollups: {
    rebuild(org: string, tz: string, now: Date, o?: { prepare?: boolean }): ReturnType<EngagementRollupRepository['rebuild']>;
    patch(org: string, ids: readonly string[]): Promise<boolean>;
    advance(org: string, tz: string, today: string): Promise<boolean>;
  };
  let org: string;
  const TZ = 'America/New_York';

  beforeAll(async () => {
    t = await createTestApp();
    const tenantDb = t.app.get(TenantDb);
    const facts = t.app.get(EngagementRepository);
    const rollup = t.app.get(EngagementRollupRepository);
    const locked = <T>(org: string, work: (db: TenantSql) => Promise<T>): Promise<T> =>
      tenantDb.transaction(org, async (db) => {
        await rollup.lock(db);
        return work(db);
      });
    overview = { facts: (org, q, o) => tenantDb.read(org, (db) => facts.facts(db, q, o)) };
    rollups = {
      rebuild: (org, tz, now, o) => locked(org, (db) => rollup.rebuild(db, tz, now, o)),
      patch: (org, ids) => locked(org, (db) => rollup.patch(db, ids)),
      advance: (org, tz, today) => locked(org, (db) => rollup.advance(db, tz, today)),
    };
    [{ id: org }] = await t.db.query<{ id: string }>(
      `INSERT INTO organizations (slug, name, timezone) VALUES ('rollup', 'Rollup Clinic', $1) RETURNING id`,
      [TZ],
    );
    // 240 patients, the last 12 soft-deleted (no metrics row); 0-14 appointments each over two years, a sixth of
    // them not completed, some completed ones after now; times spread over the day. Deterministic (setseed).
    await t.db.query(`SELECT setseed(0.42)`);
    await t.db.query(
      `INSERT INTO patients (organization_id, source, external_id, name, registered_at, deleted_at)
       SELECT $1, 'gen', 'p' || i, 'Patient ' || i, '2024-06-01', CASE WHEN i > 228 THEN timestamptz '2026-10-01' END
         FROM generate_series(1, 240) i`,
      [org],
    );
    await t.db.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status)
       SELECT $1, 'gen', p.id || '-' || n, p.id,
              timestamptz '2024-12-20 00:00:00+00' + (random() * 715) * interval '1 day',
              'visit', (ARRAY['completed', 'completed', 'completed', 'completed', 'completed', 'cancelled', 'no_show', 'scheduled'])[1 + floor(random() * 8)::int]
         FROM patients p CROSS JOIN LATERAL generate_series(1, floor(random() * 15)::int) n
        WHERE p.organization_id = $1`,
      [org],
    );
    // A few visits exactly at local midnights around the DST changes, and several the same local day.
    await t.db.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status)
       SELECT $1, 'gen', 'edge-' || p.external_id || '-' || e.n, p.id, e.at, 'visit', 'completed'
         FROM (SELECT id, external_id FROM patients WHERE organization_id = $1 ORDER BY external_id LIMIT 20) p
        CROSS JOIN (VALUES (1, timestamptz '2025-03-09 05:00:00+00'), (2, timestamptz '2025-03-09 04:59:59+00'),
                           (3, timestamptz '2025-11-02 04:00:00+00'), (4, timestamptz '2025-11-02 03:59:59+00'),
                           (5, timestamptz '2025-11-03 05:00:00+00'), (6, timestamptz '2026-11-24 04:59:59+00'),
                           (7, timestamptz '2026-11-24 05:00:00+00'), (8, timestamptz '2026-11-24 11:59:59+00'),
                           (9, timestamptz '2026-11-24 12:00:01+00')) e(n, at)`,
      [org],
    );
    // Patients whose first visit is in a window's first bucket but before `from`, back after it (new in that
    // bucket): rolled up (a), first visit rolled up and the return after the cutoff (b), both after an old cutoff (c).
    for (const [key, visits] of [
      ['carry-a', ['2026-10-13T15:00:00Z', '2026-10-16T15:00:00Z']],
      ['carry-b', ['2026-11-23T15:00:00Z', '2026-11-24T10:00:00Z']],
      ['carry-c', ['2026-11-16T15:00:00Z', '2026-11-18T15:00:00Z']],
    ] as const) {
      const [{ id }] = await t.db.query<{ id: string }>(
        `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'gen', $2, $2) RETURNING id`,
        [org, key],
      );
      for (const [i, at] of visits.entries()) {
        await t.db.query(
          `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status) VALUES ($1, 'gen', $2, $3, $4, 'visit', 'completed')`,
          [org, `${key}-${i}`, id, at],
        );
      }
    }
    await t.db.query(
      `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level, engagement_score, stale)
       SELECT $1, id, lower(name), 'active', 'low', round((random() * 100)::numeric, 1), false
         FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`,
      [org],
    );
  });
  afterAll(() => t.close());

  /** The repository's query for a window asked for at `now` (as EngagementService builds it). */
  function query(w: { from?: string; to?: string; granularity?: Granularity }, now = TEST_NOW, timeZone = TZ): EngagementQuery | null {
    const today = localDate(now, timeZone);
    const window = resolveWindow(w, today);
    if ('field' in window) return null;
    return { timeZone, granularity: window.granularity, from: window.from, toExclusive: nextDay(window.to), monthStart: `${today.slice(0, 7)}-01`, now };
  }

  const rounded = (f: EngagementFacts): EngagementFacts => ({
    ...f,
    buckets: f.buckets.map((b) => ({ ...b, engagement_score: b.engagement_score === null ? null : Math.round(b.engagement_score * 1e9) / 1e9 })),
  });

  /** Windows of every kind: default, by day/week/month, cut buckets, past, future, across DST, and random ones. */
  function windows(): { from?: string; to?: string; granularity?: Granularity }[] {
    const list: { from?: string; to?: string; granularity?: Granularity }[] = [
      {},
      { granularity: 'day', from: '2026-09-20' },
      { granularity: 'month', from: '2025-01-01' },
      { granularity: 'week', from: '2026-08-13' },
      { granularity: 'week', from: '2026-10-15' },
      { granularity: 'month', from: '2026-10-15' },
      { granularity: 'week', from: '2026-11-17' },
      { granularity: 'month', from: '2026-06-15', to: '2026-11-30' },
      { granularity: 'week', from: '2025-02-27', to: '2025-03-19' },
      { granularity: 'day', from: '2025-10-25', to: '2025-11-09' },
      { granularity: 'week', from: '2026-11-24', to: '2026-11-24' },
      { granularity: 'day', from: '2026-11-25', to: '2026-12-31' },
      { granularity: 'month', from: '2024-01-10', to: '2024-12-31' },
      { granularity: 'week', from: '2024-12-01', to: '2026-11-23' },
    ];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const day = (offset: number): string => new Date(Date.UTC(2024, 11, 1) + offset * 86_400_000).toISOString().slice(0, 10);
    for (let i = 0; i < 25; i++) {
      const from = rand(740);
      list.push({ from: day(from), to: day(from + rand(400)), granularity: (['day', 'week', 'month'] as const)[rand(3)] });
    }
    return list;
  }

  async function expectSameAsVisits(now = TEST_NOW): Promise<number> {
    let compared = 0;
    for (const w of windows()) {
      const q = query(w, now);
      if (!q) continue;
      const fromRollup = await overview.facts(org, q);
      const fromVisits = await overview.facts(org, q, { rollup: false });
      expect({ w, source: fromRollup.source }).toEqual({ w, source: 'rollup' });
      expect({ w, facts: rounded(fromRollup.facts) }).toEqual({ w, facts: rounded(fromVisits.facts) });
      compared++;
    }
    return compared;
  }

  /** The rollup's rows, to compare a patched or moved rollup with one built from scratch. */
  async function tables(): Promise<{ steps: unknown[]; patients: unknown[] }> {
    const steps = await t.db.query(
      `SELECT day::text, prev::text, patients, round(score_sum::numeric, 6)::text AS score_sum, scored FROM engagement_visit_gaps
        WHERE organization_id = $1 ORDER BY day, prev`,
      [org],
    );
    const patients = await t.db.query(
      `SELECT patient_id, first_day::text, days::text, engagement_score FROM engagement_patient_days WHERE organization_id = $1 ORDER BY patient_id`,
      [org],
    );
    return { steps, patients };
  }

  it('has data to count: visits on most days of the two years, some after now, soft-deleted patients', async () => {
    const [s] = await t.db.query<{ visits: number; future: number; deleted: number }>(
      `SELECT count(*) FILTER (WHERE a.status = 'completed')::int AS visits,
              count(*) FILTER (WHERE a.status = 'completed' AND a.starts_at > $2)::int AS future,
              count(DISTINCT a.patient_id) FILTER (WHERE p.deleted_at IS NOT NULL)::int AS deleted
         FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.organization_id = $1`,
      [org, TEST_NOW],
    );
    expect(s.visits).toBeGreaterThan(1000);
    expect(s.future).toBeGreaterThan(0);
    expect(s.deleted).toBeGreaterThan(5);
  });

  it('answers from the visits before it is built', async () => {
    for (const table of ['engagement_rollups', 'engagement_patient_days', 'engagement_visit_gaps']) {
      await t.db.query(`DELETE FROM ${table} WHERE organization_id = $1`, [org]);
    }
    const q = query({}) as EngagementQuery;
    const r = await overview.facts(org, q);
    expect([r.source, r.rollup.use]).toEqual(['visits', 'missing']);
  });

  it('answers every window as the visits do, right after a build (cutoff: today)', async () => {
    const built = await rollups.rebuild(org, TZ, TEST_NOW);
    expect(built.cutoff).toBe('2026-11-24');
    expect(built.patients).toBeGreaterThan(200);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('and with a cutoff ten days old (the visits since then read from appointments)', async () => {
    await rollups.rebuild(org, TZ, new Date('2026-11-14T12:00:00Z'));
    const r = await overview.facts(org, query({}) as EngagementQuery);
    expect([r.source, r.rollup.cutoff, r.rollup.today]).toEqual(['rollup', '2026-11-14', '2026-11-24']);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('moving the cutoff gives the rollup a build would', async () => {
    await rollups.rebuild(org, TZ, new Date('2026-11-14T12:00:00Z'));
    expect(await rollups.advance(org, TZ, '2026-11-24')).toBe(true);
    expect(await rollups.advance(org, TZ, '2026-11-24')).toBe(false);
    const moved = await tables();
    await rollups.rebuild(org, TZ, TEST_NOW);
    expect(moved).toEqual(await tables());
    expect(moved.steps.length).toBeGreaterThan(100);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('patches follow changed visits and scores, and match a build', async () => {
    await rollups.rebuild(org, TZ, new Date('2026-11-20T12:00:00Z'));
    const some = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY external_id LIMIT 30`, [org]);
    const ids = some.map((r) => r.id);
    // A first visit cancelled, a visit added long ago, one in the open part, new scores, a patient soft-deleted.
    await t.db.query(
      `UPDATE appointments SET status = 'cancelled' WHERE id IN (
         SELECT DISTINCT ON (patient_id) id FROM appointments WHERE patient_id = ANY($1::uuid[]) AND status = 'completed' ORDER BY patient_id, starts_at)`,
      [ids.slice(0, 10)],
    );
    for (const [i, id] of ids.slice(10, 20).entries()) {
      await t.db.query(
        `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status)
         VALUES ($1, 'gen', $2, $3, $4, 'visit', 'completed'), ($1, 'gen', $5, $3, $6, 'visit', 'completed')`,
        [org, `late-a-${i}`, id, new Date(Date.UTC(2024, 11, 15 + i, 3)), `late-b-${i}`, new Date(Date.UTC(2026, 10, 21, 2 * i))],
      );
    }
    await t.db.query(`UPDATE patient_metrics SET engagement_score = 100 - engagement_score WHERE patient_id = ANY($1::uuid[])`, [ids.slice(15, 25)]);
    await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [ids[25], TEST_NOW]);
    await t.db.query(`DELETE FROM patient_metrics WHERE patient_id = $1`, [ids[25]]);

    expect(await rollups.patch(org, ids)).toBe(true);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
    expect(await rollups.patch(org, ids)).toBe(true);
    const patched = await tables();
    await rollups.rebuild(org, TZ, new Date('2026-11-20T12:00:00Z'));
    expect(patched).toEqual(await tables());
  });

  it('a rebuild after the scores moved updates the changed rows in place (HOT) and gives the rollup a build from scratch would', async () => {
    const at = new Date('2026-11-20T12:00:00Z');
    const clear = async (): Promise<void> => {
      await t.db.query(`DELETE FROM engagement_patient_days WHERE organization_id = $1`, [org]);
      await t.db.query(`DELETE FROM engagement_visit_gaps WHERE organization_id = $1`, [org]);
      await t.db.query(`VACUUM engagement_patient_days`);
      await t.db.query(`VACUUM engagement_visit_gaps`);
    };
    expect(
      (await t.db.query<{ relname: string; fillfactor: string | null }>(
        `SELECT relname::text, (SELECT split_part(o, '=', 2) FROM unnest(reloptions) o WHERE o LIKE 'fillfactor=%') AS fillfactor
           FROM pg_class WHERE relname IN ('engagement_patient_days_default', 'engagement_visit_gaps') ORDER BY relname`,
      )).map((r) => [r.relname, r.fillfactor]),
    ).toEqual([['engagement_patient_days_default', '50'], ['engagement_visit_gaps', '50']]);
    await clear();
    await rollups.rebuild(org, TZ, at);
    // Every score moves (as a next-day recompute moves most), one patient's by nothing.
    const [{ moved }] = await t.db.query<{ moved: number }>(
      `WITH u AS (UPDATE patient_metrics SET engagement_score = engagement_score + 1
                   WHERE organization_id = $1 AND patient_id <> (SELECT min(patient_id::text)::uuid FROM engagement_patient_days WHERE organization_id = $1)
                     AND patient_id IN (SELECT patient_id FROM engagement_patient_days WHERE organization_id = $1)
                  RETURNING 1)
       SELECT count(*)::int AS moved FROM u`,
      [org],
    );
    expect(moved).toBeGreaterThan(150);
    const tenantDb = t.app.get(TenantDb);
    const rollup = t.app.get(EngagementRollupRepository);
    type Counters = { relname: string; upd: number; hot: number; ins: number; del: number };
    // The counters read before and after the rebuild in its transaction, and their difference: on PostgreSQL 15 the
    // "xact" counters can also hold a previous transaction's counts not yet flushed on the same connection.
    const counters = (db: TenantSql): Promise<Counters[]> =>
      db.query<Counters>(
        `SELECT relname::text, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot, n_tup_ins::int AS ins, n_tup_del::int AS del
           FROM pg_stat_xact_user_tables WHERE relname IN ('engagement_patient_days_default', 'engagement_visit_gaps') ORDER BY relname`,
      );
    const written = await tenantDb.transaction(org, async (db) => {
      await rollup.lock(db);
      const before = await counters(db);
      await rollup.rebuild(db, TZ, at);
      return (await counters(db)).map((a, i) => ({
        relname: a.relname,
        upd: a.upd - before[i].upd,
        hot: a.hot - before[i].hot,
        ins: a.ins - before[i].ins,
        del: a.del - before[i].del,
      }));
    });
    const [days, gaps] = written;
    // Only the patients whose score moved are rewritten, each in place; no row inserted or deleted.
    expect([days.relname, days.upd, days.hot, days.ins, days.del]).toEqual(['engagement_patient_days_default', moved, moved, 0, 0]);
    expect(gaps.relname).toBe('engagement_visit_gaps');
    expect(gaps.upd).toBeGreaterThan(100);
    expect([gaps.hot, gaps.ins, gaps.del]).toEqual([gaps.upd, 0, 0]);
    const rebuilt = await tables();
    await clear();
    await rollups.rebuild(org, TZ, at);
    expect(rebuilt).toEqual(await tables());
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('answers from the visits when the organization moved to another time zone, or the clock is before the cutoff', async () => {
    await t.db.query(`UPDATE organizations SET timezone = 'Asia/Kolkata' WHERE id = $1`, [org]);
    try {
      const q = query({ granularity: 'day', from: '2026-10-01' }, TEST_NOW, 'Asia/Kolkata') as EngagementQuery;
      const r = await overview.facts(org, q);
      expect([r.source, r.rollup.use]).toEqual(['visits', 'other-time-zone']);
      await rollups.rebuild(org, 'Asia/Kolkata', TEST_NOW);
      const rebuilt = await overview.facts(org, q);
      expect(rebuilt.source).toBe('rollup');
      expect(rounded(rebuilt.facts)).toEqual(rounded(r.facts));
    } finally {
      await t.db.query(`UPDATE organizations SET timezone = $2 WHERE id = $1`, [org, TZ]);
    }
    await rollups.rebuild(org, TZ, TEST_NOW);
    const earlier = new Date('2026-11-20T12:00:00Z');
    const r = await overview.facts(org, query({}, earlier) as EngagementQuery);
    expect([r.source, r.rollup.use]).toEqual(['visits', 'after-today']);
  });

  it("builds in one statement (the nightly follow-up's: cutoff, build and save) what the three statements build, in any time zone, around local midnight", async () => {
    const state = async (): Promise<unknown> => ({
      ...(await tables()),
      rollup: await t.db.query(
        `SELECT timezone, cutoff::text, built_at, duration_ms >= 0 AS timed FROM engagement_rollups WHERE organization_id = $1`,
        [org],
      ),
    });
    const cases: [string, string][] = [
      [TZ, '2026-11-24T04:59:59.999Z'], // 23:59:59.999 local, the day before
      [TZ, '2026-11-24T05:00:00.000Z'], // local midnight
      ['Pacific/Chatham', '2026-11-23T10:15:00.000Z'], // UTC+13:45: local midnight
      ['Asia/Kolkata', '2026-11-24T18:29:59.000Z'],
      ['UTC', TEST_NOW.toISOString()],
    ];
    for (const [tz, at] of cases) {
      const now = new Date(at);
      const { durationMs: threeMs, ...three } = await rollups.rebuild(org, tz, now);
      const threeState = await state();
      // Built again from nothing: the rollup's rows and its row (cutoff, time zone, built at) are the statement's own.
      for (const table of ['engagement_rollups', 'engagement_patient_days', 'engagement_visit_gaps']) {
        await t.db.query(`DELETE FROM ${table} WHERE organization_id = $1`, [org]);
      }
      const { durationMs: oneMs, ...one } = await rollups.rebuild(org, tz, now, { prepare: true });
      expect({ tz, at, one }).toEqual({ tz, at, one: three });
      expect({ tz, at, state: await state() }).toEqual({ tz, at, state: threeState });
      expect([threeMs, oneMs].every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    }
    await rollups.rebuild(org, TZ, TEST_NOW, { prepare: true });
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it("a large organization's rebuild by build and swap gives the rollup the update path gives, in a partition of its own, then replaces it", async () => {
    const service = t.app.get(EngagementRollupService);
    const partitions = async (): Promise<string[]> =>
      (await t.db.query<{ p: string }>(`SELECT DISTINCT tableoid::regclass::text AS p FROM engagement_patient_days WHERE organization_id = $1`, [org])).map(
        (r) => r.p,
      );
    const own = `engagement_days_${org.replaceAll('-', '')}`;
    const leftovers = async (): Promise<string[]> =>
      (await t.db.query<{ relname: string }>(`SELECT relname::text FROM pg_class WHERE relname LIKE '%_rebuild' AND relname LIKE $1`, [`%${org.replaceAll('-', '')}%`])).map(
        (r) => r.relname,
      );
    const rollupRow = async (): Promise<unknown> =>
      t.db.query(`SELECT timezone, cutoff::text, built_at FROM engagement_rollups WHERE organization_id = $1`, [org]);
    const [{ other }] = await t.db.query<{ other: number }>(`SELECT count(*)::int AS other FROM engagement_patient_days WHERE organization_id <> $1`, [org]);

    t.clock.set(TEST_NOW);
    const viaUpdate = await service.rebuild(org, 'update');
    const updated = { ...(await tables()), row: await rollupRow() };
    expect(await partitions()).toEqual(['engagement_patient_days_default']);
    await t.db.query(`UPDATE patient_metrics SET engagement_score = least(100, engagement_score + 3) WHERE organization_id = $1`, [org]);
    await service.rebuild(org, 'update');
    const moved = await tables();
    const viaSwap = await service.rebuild(org, 'swap');
    // The first swap: out of the shared partition, the same rows, steps and row as the update path's.
    expect(await partitions()).toEqual([own]);
    expect({ ...viaSwap, durationMs: 0 }).toEqual({ ...viaUpdate, durationMs: 0 });
    expect(await tables()).toEqual(moved);
    expect(moved).not.toEqual({ steps: updated.steps, patients: updated.patients });
    expect(await rollupRow()).toEqual(updated.row);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
    // The second: its own partition replaced, the scores moved back.
    await t.db.query(`UPDATE patient_metrics SET engagement_score = greatest(0, engagement_score - 3) WHERE organization_id = $1`, [org]);
    await service.rebuild(org, 'swap');
    expect(await partitions()).toEqual([own]);
    const swappedBack = await tables();
    await service.rebuild(org, 'update');
    expect(await tables()).toEqual(swappedBack);
    expect(await leftovers()).toEqual([]);
    // Other organizations' rows untouched; row-level security on the partition, no grant to the runtime role.
    expect((await t.db.query<{ other: number }>(`SELECT count(*)::int AS other FROM engagement_patient_days WHERE organization_id <> $1`, [org]))[0].other).toBe(other);
    const [security] = await t.db.query<{ rls: boolean; granted: boolean }>(
      `SELECT relrowsecurity AS rls, has_table_privilege('patient_journey_app', oid, 'SELECT') AS granted FROM pg_class WHERE relname = $1`,
      [own],
    );
    expect(security).toEqual({ rls: true, granted: false });
    const [{ id: stranger }] = await t.db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('rollup-stranger', 'Stranger') RETURNING id`);
    const seen = await t.app.get(TenantDb).read(stranger, (db) => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM engagement_patient_days`));
    expect(seen[0].n).toBe(0);
    // Patches after a swap (in the organization's partition) match a build.
    const some = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id LIMIT 12`, [org]);
    await t.db.query(`UPDATE patient_metrics SET engagement_score = 100 - engagement_score WHERE patient_id = ANY($1::uuid[])`, [some.map((r) => r.id)]);
    expect(await rollups.patch(org, some.map((r) => r.id))).toBe(true);
    const patched = await tables();
    await service.rebuild(org, 'update');
    expect(await tables()).toEqual(patched);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('a build and swap that fails in one half leaves the rollup, its partition and its lock as they were', async () => {
    const before = { ...(await tables()), row: await t.db.query(`SELECT * FROM engagement_rollups WHERE organization_id = $1`, [org]) };
    let lowerDone = false;
    const failing = new (class extends EngagementRollupRepository {
      override async buildHalf(...args: Parameters<EngagementRollupRepository['buildHalf']>): Promise<number> {
        if (args[2].after) throw new Error('the upper half failed');
        const n = await super.buildHalf(...args);
        lowerDone = true;
        return n;
      }
    })();
    await t.db.query(`UPDATE patient_metrics SET engagement_score = least(100, engagement_score + 1) WHERE organization_id = $1`, [org]);
    const service = new EngagementRollupService(t.app.get(TenantDb), failing, t.app.get(OrganizationsRepository), t.clock, undefined, undefined, t.app.get(Database));
    await expect(service.rebuild(org, 'swap')).rejects.toThrow('the upper half failed');
    expect(lowerDone).toBe(true);
    expect({ ...(await tables()), row: await t.db.query(`SELECT * FROM engagement_rollups WHERE organization_id = $1`, [org]) }).toEqual(before);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE $1`, [`%${org.replaceAll('-', '')}_rebuild`]);
    expect(n).toBe(0);
    // The lock was let go: a patch and a swap run afterwards.
    expect(await rollups.patch(org, [])).toBe(true);
    await expect(t.app.get(EngagementRollupService).rebuild(org, 'swap')).resolves.toMatchObject({ organizationId: org });
  });

  it("holds the rollup's lock through a build and swap: another process's patch waits for it", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let building!: () => void;
    const started = new Promise<void>((resolve) => (building = resolve));
    const paused = new (class extends EngagementRollupRepository {
      override async buildHalf(...args: Parameters<EngagementRollupRepository['buildHalf']>): Promise<number> {
        if (args[2].after === null) {
          building();
          await gate;
        }
        return super.buildHalf(...args);
      }
    })();
    const service = new EngagementRollupService(t.app.get(TenantDb), paused, t.app.get(OrganizationsRepository), t.clock, undefined, undefined, t.app.get(Database));
    const rebuilt = service.rebuild(org, 'swap');
    await started;
    // The patch's transaction-level lock on the same key, as another process takes it (lock_timeout: it would wait).
    const tenantDb = t.app.get(TenantDb);
    const rollup = t.app.get(EngagementRollupRepository);
    await expect(
      tenantDb.transaction(org, async (db) => {
        await db.query(`SET LOCAL lock_timeout = '200ms'`);
        await rollup.lock(db);
      }),
    ).rejects.toThrow(/lock timeout/);
    release();
    await expect(rebuilt).resolves.toMatchObject({ organizationId: org });
    await expect(tenantDb.transaction(org, (db) => rollup.lock(db))).resolves.toBeUndefined();
  });

  it("the partitioning migration goes down to one table and up again, the organization's swapped rows kept", async () => {
    await t.app.get(EngagementRollupService).rebuild(org, 'swap');
    const before = await tables();
    const migrate = async (step: 'up' | 'down'): Promise<void> => {
      const ds = new DataSource(dataSourceOptions({ url: t.db.url, asRuntimeRole: false, poolSize: 1 }));
      await ds.initialize();
      const qr = ds.createQueryRunner();
      try {
        await new EngagementPatientDaysPartitions1795568500000()[step](qr);
      } finally {
        await qr.release();
        await ds.destroy();
      }
    };
    const kind = async (): Promise<string> =>
      (await t.db.query<{ relkind: string }>(`SELECT relkind::text FROM pg_class WHERE relname = 'engagement_patient_days'`))[0].relkind;
    await migrate('down');
    expect(await kind()).toBe('r');
    expect(await tables()).toEqual(before);
    expect(await t.db.query(`SELECT to_regclass('engagement_patient_days_default') AS r`)).toEqual([{ r: null }]);
    await migrate('up');
    expect(await kind()).toBe('p');
    expect(await tables()).toEqual(before);
    const [{ p }] = await t.db.query<{ p: string }>(`SELECT DISTINCT tableoid::regclass::text AS p FROM engagement_patient_days WHERE organization_id = $1`, [org]);
    expect(p).toBe('engagement_patient_days_default');
    // The app's paths work on it again: a patch, then a swap out of the shared partition.
    expect(await rollups.patch(org, [])).toBe(true);
    await t.app.get(EngagementRollupService).rebuild(org, 'swap');
    expect(await tables()).toEqual(before);
    expect(await expectSameAsVisits()).toBeGreaterThan(30);
  });

  it('patching an organization without a rollup does nothing', async () => {
    const [{ id: other }] = await t.db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('no-rollup', 'None') RETURNING id`);
    expect(await rollups.patch(other, [])).toBe(false);
    expect(await rollups.advance(other, 'UTC', '2026-11-24')).toBe(false);
  });
});
