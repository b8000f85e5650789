import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { MetricsPartitionRepository, rebuildTables } from 'src/scoring/recompute/metrics-partition.repository';
import { FRESH_COPY_COLUMNS } from 'src/scoring/scores/scores-copy';
import { seedOrganization } from 'src/demo-data/seed';
import { ScoringService } from 'src/scoring/scoring.service';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { appointment, daysAgo, metricCounts, metricGroups, partitionsOf, patient, recomputeOrganizationWithUrl, scoringOrganization, seedCipher, tenantConnection } from 'test/scoring/scoring-fixtures';

const DAY = 86_400_000;
const cipher = seedCipher();

/**
 * Rebuild and swap (src/scoring/recompute/metrics-partition-swap.ts) against the update path: two organizations seeded
 * alike (same generator seed: the same records under other ids, matched by external id), one recomputed each way. The
 * rebuilt one starts in the shared partition: its first rebuild gives it its own (test/scoring/metrics-layout.int-spec.ts).
 */
describe('recompute: rebuild and swap of the metrics partition', () => {
  let t: TestApp;
  let scoring: ScoringService;
  let rebuilt: string;

  /**
   * A generated clinic of 400 patients, the same one (seed 5) under every slug: physiotherapy, whose weekly courses
   * move risk scores by a point a day, so the second day writes history.
   */
  const seed = async (slug: string): Promise<string> =>
    (await seedOrganization(t.db.url, { slug, name: slug, kind: 'physiotherapy', patients: 400, seed: 5, now: TEST_NOW, cipher, chunkSize: 200 })).organizationId;

  beforeAll(async () => {
    t = await createTestApp();
    scoring = t.app.get(ScoringService);
    // The organization the tests after the first change (a rebuild under request load, a failed run...).
    rebuilt = await seed('rebuild-b');
  });
  afterAll(() => t.close());

  // Models left out (refit false, none stored): the fit samples rows by their place on disk, which differs between the
  // two organizations; the scores are then the domain's fallbacks, the same for both.
  const run = (org: string, now: Date, write: 'update' | 'rebuild', hooks = {}): ReturnType<typeof recomputeOrganizationWithUrl> =>
    recomputeOrganizationWithUrl(t.db.url, org, now, { chunkSize: 100, refit: false, vacuum: false, write, rebuildHooks: hooks });

  const metricsRows = (org: string): Promise<Record<string, unknown>[]> =>
    t.db.query(
      `SELECT p.external_id, m.sort_name, m.status, m.risk_score, m.risk_level, m.risk_factors, m.risk_trend, m.engagement_score,
              m.ltv_cents, m.historical_revenue_cents, m.future_value_cents, m.referral_value_cents, m.total_sessions,
              m.avg_session_value_cents, m.first_visit_at, m.last_appointment_at, m.next_appointment_at, m.last_contact_at,
              m.success_probability, m.stale, m.computed_at
         FROM patient_metrics m JOIN patients p ON p.id = m.patient_id
        WHERE m.organization_id = $1 ORDER BY p.external_id`,
      [org],
    );
  const counts = (org: string): Promise<Record<string, unknown>[]> => metricCounts(t.db, org);
  const groups = (org: string): Promise<Record<string, unknown>[]> => metricGroups(t.db, org);
  const history = (org: string): Promise<Record<string, unknown>[]> =>
    t.db.query(
      `SELECT p.external_id, h.recorded_on, h.risk_score FROM risk_score_history h JOIN patients p ON p.id = h.patient_id
        WHERE h.organization_id = $1 ORDER BY 1, 2`,
      [org],
    );
  const partitionOf = (org: string): Promise<string[]> => partitionsOf(t.db, org);

  it('gives the same metrics rows, counts and history as the update path, over two days', async () => {
    // A pair of its own: the same clinic twice, one written by the update path, the other rebuilt.
    const updated = await seed('rebuild-update');
    const rebuilt = await seed('rebuild-swap');
    for (const day of [0, 1]) {
      const now = new Date(TEST_NOW.getTime() + day * DAY);
      expect(await run(updated, now, 'update')).toMatchObject({ patients: 400 });
      const result = await run(rebuilt, now, 'rebuild');
      expect(result).toMatchObject({ patients: 400, phases: { takenOver: 0 } });
      expect(result.phases?.rebuildMs).toBeGreaterThanOrEqual(0);
      const [a, b] = [await metricsRows(updated), await metricsRows(rebuilt)];
      expect(b).toHaveLength(400);
      expect(b).toEqual(a);
      expect(await counts(rebuilt)).toEqual(await counts(updated));
      expect(await counts(rebuilt)).toEqual(await groups(rebuilt));
      expect(await history(rebuilt)).toEqual(await history(updated));
    }
    expect((await history(rebuilt)).length).toBeGreaterThan(400); // first rows, then the next day's moves
    // One partition, under its name, with the ten indexes and the keys; nothing of the rebuild left behind.
    expect(await partitionOf(rebuilt)).toEqual([`patient_metrics_${rebuilt.replaceAll('-', '')}`]);
    const [part] = await t.db.query<{ indexes: number; fks: number; pk: number; triggers: number; fillfactor: string[] }>(
      `SELECT (SELECT count(*)::int FROM pg_index WHERE indrelid = c.oid) AS indexes,
              (SELECT count(*)::int FROM pg_constraint WHERE conrelid = c.oid AND contype = 'f' AND conparentid <> 0) AS fks,
              (SELECT count(*)::int FROM pg_constraint WHERE conrelid = c.oid AND contype = 'p' AND conparentid <> 0) AS pk,
              (SELECT count(*)::int FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal) AS triggers,
              c.reloptions AS fillfactor
         FROM pg_class c WHERE c.relname = $1`,
      [`patient_metrics_${rebuilt.replaceAll('-', '')}`],
    );
    expect(part).toEqual({ indexes: 10, fks: 2, pk: 1, triggers: 0, fillfactor: ['fillfactor=50'] });
    expect(await t.db.query(`SELECT relname FROM pg_class WHERE relname LIKE '%\\_rebuild' OR relname LIKE 'pmr\\_%'`)).toEqual([]);
    expect(await t.db.query(`SELECT 1 FROM patient_metrics_rebuild_log`)).toEqual([]);
  });

  it('keeps what the request path wrote during the rebuild: a newer row, a soft delete, a new patient', async () => {
    const later = new Date(TEST_NOW.getTime() + 2 * DAY);
    const [x, y] = (
      await t.db.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id LIMIT 2`, [rebuilt])
    ).map((r) => r.id);
    let z = '';
    const result = await run(rebuilt, later, 'rebuild', {
      beforeSwap: async () => {
        // The request path (clock at TEST_NOW) recomputes x after a new visit, a soft delete removes y's row, an
        // ingestion adds z: all to the live partition, after the chunks were read.
        await appointment(t.db, rebuilt, x, daysAgo(TEST_NOW, 1), 'completed', 77_700);
        await scoring.recomputePatients(rebuilt, [x]);
        await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [y, TEST_NOW]);
        z = await patient(t.db, rebuilt, { name: 'Zed Newcomer' });
        await scoring.recomputePatients(rebuilt, [z]);
      },
    });
    expect(result.phases?.takenOver).toBe(3);
    const row = async (id: string): Promise<Record<string, unknown> | undefined> =>
      (await t.db.query(`SELECT computed_at, total_sessions FROM patient_metrics WHERE organization_id = $1 AND patient_id = $2`, [rebuilt, id]))[0];
    const xRow = await row(x);
    expect((xRow?.computed_at as Date).toISOString()).toBe(TEST_NOW.toISOString());
    // The request path's row counts the visit added during the rebuild (the rebuild read x without it).
    const [visits] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM appointments WHERE patient_id = $1 AND status = 'completed' AND starts_at <= $2`,
      [x, TEST_NOW],
    );
    expect(xRow?.total_sessions).toBe(visits.n);
    expect(await row(y)).toBeUndefined();
    expect((await row(z))?.computed_at).toEqual(TEST_NOW);
    const others = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patient_metrics WHERE organization_id = $1 AND computed_at = $2`,
      [rebuilt, later],
    );
    expect(others[0].n).toBe(398);
    expect(await counts(rebuilt)).toEqual(await groups(rebuilt));
  });

  it('leaves the live partition untouched when the run fails before the swap', async () => {
    const before = await metricsRows(rebuilt);
    const failing = run(rebuilt, new Date(TEST_NOW.getTime() + 3 * DAY), 'rebuild', {
      beforeSwap: () => Promise.reject(new Error('stop before the swap')),
    });
    await expect(failing).rejects.toThrow('stop before the swap');
    expect(await metricsRows(rebuilt)).toEqual(before);
    expect(await counts(rebuilt)).toEqual(await groups(rebuilt));
    expect(await t.db.query(`SELECT relname FROM pg_class WHERE relname LIKE '%\\_rebuild'`)).toEqual([]);
    const triggers = await t.db.query(`SELECT tgname FROM pg_trigger WHERE tgname = 'trg_patient_metrics_rebuild_log'`);
    expect(triggers).toEqual([]);
  });

  it('keeps row-level security: the runtime role sees its organization only, and no partition by name', async () => {
    const tenantDb = t.app.get(TenantDb);
    const seen = await tenantDb.transaction(rebuilt, (m) => m.query(`SELECT DISTINCT organization_id FROM patient_metrics`));
    expect(seen).toEqual([{ organization_id: rebuilt }]);
    const partition = `patient_metrics_${rebuilt.replaceAll('-', '')}`;
    const other = (await t.db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('rls-other', 'Other') RETURNING id`))[0].id;
    await expect(tenantDb.transaction(other, (m) => m.query(`SELECT count(*) FROM ${partition}`))).rejects.toThrow(/permission denied/);
  });

  it('lets the runtime role only COPY its own organization\'s rows into the fresh table while it is filled, then seals it', async () => {
    // The fresh table is filled by COPY (refused under row-level security): its tenant CHECK keeps the policy's rule.
    const org = await seed('rebuild-fresh');
    const other = await seed('rebuild-fresh-other');
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'scoring-test' });
    const owner = await database.ownerConnection('scoring-test');
    const tables = rebuildTables(org, true);
    const repo = new MetricsPartitionRepository(owner, tables);
    const own = await tenantConnection(t.db.url, org);
    const foreign = await tenantConnection(t.db.url, other);
    try {
      await repo.createFresh();
      const [p] = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id LIMIT 1`, [org]);
      const line = (o: string): string => `${o}\t${p.id}\tname\tactive\t1\tlow\t[]\tstable\t0\t0\t0\t0\t0\t0\t0\t\\N\t\\N\t\\N\t0\t\\N\tf\t${TEST_NOW.toISOString()}\t${TEST_NOW.toISOString()}\t${TEST_NOW.toISOString()}\n`;
      const copy = (c: typeof own, o: string): Promise<void> => c.copyIn(`COPY ${tables.fresh} (${FRESH_COPY_COLUMNS}) FROM STDIN`, line(o));
      // Another organization's session: refused, whichever organization the row names.
      await expect(copy(foreign, org)).rejects.toThrow(/check constraint/);
      await expect(copy(foreign, other)).rejects.toThrow(/check constraint/);
      // A runtime-role session bound to no organization: refused (the CHECK is IS TRUE, not null-passing).
      await own.query(`SELECT set_config('app.organization_id', '', false)`);
      await expect(copy(own, org)).rejects.toThrow(/check constraint/);
      await own.query(`SELECT set_config('app.organization_id', $1, false)`, [org]);
      // Its own organization's session: its organization's row only (the partition bound names it).
      await expect(copy(own, other)).rejects.toThrow(/check constraint/);
      await copy(own, org);
      // INSERT only: the runtime role cannot read, change or delete the table's rows.
      await expect(own.query(`SELECT count(*) FROM ${tables.fresh}`)).rejects.toThrow(/permission denied/);
      await expect(own.query(`DELETE FROM ${tables.fresh}`)).rejects.toThrow(/permission denied/);
      expect(await t.db.query(`SELECT organization_id, patient_id FROM ${tables.fresh}`)).toEqual([{ organization_id: org, patient_id: p.id }]);
      // Sealed: no grant, no tenant CHECK, row-level security on, as every partition.
      await repo.seal();
      await expect(copy(own, org)).rejects.toThrow(/permission denied/);
      const [rel] = await t.db.query<{ rls: boolean; acl: string | null; checks: string[] }>(
        `SELECT c.relrowsecurity AS rls, c.relacl::text AS acl,
                (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint WHERE conrelid = c.oid AND contype = 'c') AS checks
           FROM pg_class c WHERE c.relname = $1`,
        [tables.fresh],
      );
      expect(rel.rls).toBe(true);
      expect(rel.acl ?? '').not.toContain('patient_journey_app');
      // The parent's CHECKs (LIKE ... INCLUDING CONSTRAINTS) and the bound's stay; the tenant CHECK is gone.
      expect(rel.checks).toEqual(['ck_patient_metrics_partition', 'ck_patient_metrics_risk_level', 'ck_patient_metrics_risk_trend', 'ck_patient_metrics_status']);
    } finally {
      await repo.cleanUp();
      await Promise.all([own.end(), foreign.end(), owner.end()]);
      await database.close();
    }
  });

  it('keeps a new organization in the shared partition (migration 1795567900000)', async () => {
    const org = await scoringOrganization(t.db);
    expect(await partitionOf(org)).toEqual([]);
    const p = await patient(t.db, org);
    await scoring.recomputePatients(org, [p]);
    expect(await t.db.query(`SELECT patient_id FROM patient_metrics_default WHERE organization_id = $1`, [org])).toEqual([{ patient_id: p }]);
  });

  it('runs two organization-wide recomputes of one organization one after the other, both complete', async () => {
    const now = new Date(TEST_NOW.getTime() + 5 * DAY);
    const [a, b] = await Promise.all([run(rebuilt, now, 'rebuild'), run(rebuilt, now, 'rebuild')]);
    expect([a.patients, b.patients]).toEqual([400, 400]);
    expect(await partitionOf(rebuilt)).toHaveLength(1);
    expect(await counts(rebuilt)).toEqual(await groups(rebuilt));
  });
});
