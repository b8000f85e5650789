import { localDate } from 'src/common/time/calendar';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import type { PatientScores } from 'src/scoring/patient-scores';
import { scoreRows } from 'src/scoring/recompute/patient-recompute';
import { readChunk } from 'src/scoring/recompute/read-chunk';
import { DELETE_METRICS_OF_DELETED_SQL, type MetricsWriteForm } from 'src/scoring/scores/scores.repository';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import {
  appointment,
  daysAfter,
  daysAgo,
  patient,
  recomputeOrganizationWithUrl,
  simulatedClinic,
  tenantConnection,
} from 'test/scoring/scoring-fixtures';

class Rollback extends Error {}

/**
 * A small clinic's metrics write at night (docs/scaling.md, "The metrics write of a small clinic"): an organization-wide
 * chunk of 500 patients or fewer goes as jsonb, written by INSERT ... ON CONFLICT DO UPDATE (the default) or by an
 * UPDATE of the rows that exist plus an INSERT of the others (`form: 'update'`, measured against it); both leave the same.
 */
describe("a small clinic's metrics write", () => {
  let t: TestApp;
  const repos = new ScoringRepositories();

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** The clinic's next night's scores, as its nightly run computes them (kept features, the stored fit). */
  async function nightScores(conn: BatchTenantConnection, now: Date): Promise<{ scores: PatientScores[]; today: string }> {
    const organization = (await repos.organizations.own(conn))!;
    const settings = organizationScoringSettings(organization.settings);
    const stored = await repos.fits.latestFits(conn);
    const { rows } = await readChunk(repos, conn, { kind: 'range', from: null, to: null }, now, {
      settings,
      timeZone: organization.timezone,
      reuse: true,
      keep: { settingsKey: keptFeaturesKey(settings) },
    });
    const referred = await repos.features.referredNetRevenue(conn, now);
    for (const row of rows) row.referredNetRevenueCents = referred.get(row.patientId) ?? 0;
    return { scores: scoreRows(rows, now, { organization, settings, models: stored?.models ?? null }), today: localDate(now, organization.timezone) };
  }

  /** Everything the write leaves for the clinic: its metrics rows, its history rows and its counts, all columns. */
  async function written(conn: TenantSql): Promise<{ metrics: unknown[]; history: unknown[]; counts: unknown[] }> {
    return {
      metrics: await conn.query(`SELECT * FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id`, [conn.organizationId]),
      history: await conn.query(`SELECT * FROM risk_score_history WHERE organization_id = $1 ORDER BY patient_id, recorded_on`, [conn.organizationId]),
      counts: await conn.query(
        `SELECT status, risk_level, risk_trend, sum(patients)::int AS n, max(last_computed_at) AS last FROM patient_metric_counts
          WHERE organization_id = $1 GROUP BY 1, 2, 3 HAVING sum(patients) <> 0 ORDER BY 1, 2, 3`,
        [conn.organizationId],
      ),
    };
  }

  /** The write of `scores` through `handle` (recording its statements), what it left, then rolled back. */
  async function writeAndRollBack(
    conn: BatchTenantConnection,
    handle: TenantSql,
    input: { scores: PatientScores[]; today: string },
    now: Date,
    form?: MetricsWriteForm,
    after?: string,
  ): Promise<Awaited<ReturnType<typeof written>>> {
    let left: Awaited<ReturnType<typeof written>> | undefined;
    await conn
      .transaction(async () => {
        await repos.scores.saveScores(handle, input.scores, now, input.today, [], form ? { form } : {});
        if (after) await conn.query(after);
        left = await written(conn);
        throw new Rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    return left!;
  }

  it('updates the rows that exist and inserts the new ones, leaving the same rows, history and counts as the upsert', async () => {
    const org = await simulatedClinic(t.db, 120, 71);
    await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false }); // its first night
    const fresh = await patient(t.db, org); // no metrics row yet
    await appointment(t.db, org, fresh, daysAgo(TEST_NOW, 10), 'completed');
    const later = daysAfter(TEST_NOW, 9); // scores that moved (history rows), and one that is new
    const conn = await tenantConnection(t.db.url, org);
    try {
      const input = await nightScores(conn, later);
      expect(input.scores).toHaveLength(121);
      expect(input.scores.filter((s) => !s.hasMetrics).map((s) => s.patientId)).toEqual([fresh]);
      const moved = input.scores.filter((s) => s.recordHistory).length;
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(121);
      const before = await written(conn);

      const statements: string[] = [];
      const recording = new Proxy(conn, {
        get(target, prop, receiver) {
          if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
          return (sql: string, params?: unknown[]) => (statements.push(sql), target.query(sql, params));
        },
      });
      // The UPDATE form (its inserted rows in a CTE); then the default, the upsert, on the same scores.
      const update = await writeAndRollBack(conn, recording, input, later, 'update');
      expect(statements[0]).toMatch(/^\s*WITH [\s\S]*inserted AS \(\s*INSERT INTO patient_metrics[\s\S]*\)\s*UPDATE patient_metrics m SET /);
      const upsert = await writeAndRollBack(conn, recording, input, later);
      expect(statements[1]).not.toMatch(/UPDATE patient_metrics m SET/);
      expect(statements).toHaveLength(2);

      expect(update).toEqual(upsert);
      expect(update).not.toEqual(before);
      const rows = update.metrics as { patient_id: string; computed_at: Date; updated_at: Date; stale: boolean; created_at: Date }[];
      expect(rows).toHaveLength(121);
      expect(rows.every((r) => r.computed_at.getTime() === later.getTime() && r.updated_at.getTime() === later.getTime() && !r.stale)).toBe(true);
      expect(rows.filter((r) => r.created_at.getTime() === later.getTime()).map((r) => r.patient_id)).toEqual([fresh]);
      // Today's history rows: those of the patients whose score moved (written now).
      const today = (update.history as { patient_id: string; updated_at: Date }[]).filter((h) => h.updated_at.getTime() === later.getTime());
      expect(today.map((h) => h.patient_id).sort()).toEqual(input.scores.filter((s) => s.recordHistory).map((s) => s.patientId).sort());
      expect((update.counts as { n: number }[]).reduce((a, c) => a + c.n, 0)).toBe(121);

      // A request's handle (no COPY, no arrays): the upsert too.
      const request: TenantSql = { organizationId: org, query: (sql, params) => recording.query(sql, params) };
      expect(await writeAndRollBack(conn, request, input, later)).toEqual(upsert);
      expect(statements[2]).not.toMatch(/UPDATE patient_metrics m SET/);
    } finally {
      await conn.end();
    }
  });

  it("does not bring back the row of a patient deleted after the features read; the run's last statement then leaves both forms alike", async () => {
    const org = await simulatedClinic(t.db, 60, 73);
    await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false });
    const later = daysAfter(TEST_NOW, 1);
    const conn = await tenantConnection(t.db.url, org);
    try {
      const input = await nightScores(conn, later);
      const gone = input.scores[7].patientId;
      // Soft-deleted between the night's features read and its write: its metrics row goes at once (trigger).
      await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [gone, later]);
      const ids = (w: { metrics: unknown[] }): string[] => (w.metrics as { patient_id: string }[]).map((r) => r.patient_id);
      const update = await writeAndRollBack(conn, conn, input, later, 'update');
      expect(ids(update)).toHaveLength(59);
      expect(ids(update)).not.toContain(gone);
      // The upsert inserted it again (the night's DELETE of the deleted patients' rows, before its COMMIT, removed it).
      const upsert = await writeAndRollBack(conn, conn, input, later, 'upsert');
      expect(ids(upsert)).toContain(gone);
      const deleteGone = DELETE_METRICS_OF_DELETED_SQL.replace('$1', `'${org}'`);
      expect(await writeAndRollBack(conn, conn, input, later, 'upsert', deleteGone)).toEqual(await writeAndRollBack(conn, conn, input, later, 'update', deleteGone));
    } finally {
      await conn.end();
    }
  });
});
