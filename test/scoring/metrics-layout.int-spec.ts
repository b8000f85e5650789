import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from 'src/database/data-source-options';
import { PatientMetricsSharedPartition1795567900000 } from 'src/database/migrations/1795567900000-PatientMetricsSharedPartition';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { deleteOrganization, seedOrganization } from 'src/demo-data/seed';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { Role } from 'src/organizations/organizations.enums';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { metricCounts, metricGroups, partitionsOf, recomputeOrganizationWithUrl, seedCipher } from 'test/scoring/scoring-fixtures';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';

const cipher = seedCipher();
const SHARED = 'patient_metrics_default';

/**
 * The metrics layout of migration 1795567900000: organizations below the rebuild threshold in the shared DEFAULT
 * partition, a partition of its own for an organization once its recompute takes the rebuild path
 * (src/scoring/recompute/metrics-partition-swap.ts). `write: 'rebuild'` stands for crossing REBUILD_MIN_PATIENTS.
 */
describe('patient_metrics: a shared partition, and a partition only for the organizations that are rebuilt', () => {
  let t: TestApp;

  const seed = async (slug: string, patients = 400): Promise<string> =>
    (await seedOrganization(t.db.url, { slug, name: slug, kind: 'physiotherapy', patients, seed: 5, now: TEST_NOW, cipher, chunkSize: 200 }))
      .organizationId;
  const run = (org: string, write: 'update' | 'rebuild', hooks = {}): ReturnType<typeof recomputeOrganizationWithUrl> =>
    recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { chunkSize: 100, refit: false, vacuum: 'own-partition', write, rebuildHooks: hooks });

  const ownPartition = (org: string): string => `patient_metrics_${org.replaceAll('-', '')}`;
  const partitionOf = (org: string): Promise<string[]> => partitionsOf(t.db, org);
  const rowsIn = async (table: string, org: string): Promise<number> =>
    (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE organization_id = $1`, [org]))[0].n;
  const metricsRows = (org: string): Promise<Record<string, unknown>[]> =>
    t.db.query(
      `SELECT m.patient_id, m.sort_name, m.status, m.risk_score, m.risk_level, m.risk_factors, m.risk_trend, m.engagement_score,
              m.ltv_cents, m.total_sessions, m.last_appointment_at, m.next_appointment_at, m.success_probability, m.stale, m.computed_at
         FROM patient_metrics m WHERE m.organization_id = $1 ORDER BY m.patient_id`,
      [org],
    );
  const counts = (org: string): Promise<Record<string, unknown>[]> => metricCounts(t.db, org);
  const groups = (org: string): Promise<Record<string, unknown>[]> => metricGroups(t.db, org);
  /** What the app answers about the organization (its caches dropped first): two list pages, the counts and the risk summary. */
  const reads = async (org: string, token: string): Promise<unknown[]> => {
    t.app.get(ScoringEvents).recomputed$.next({ organizationId: org });
    const out: unknown[] = [];
    for (const url of [
      `/api/v1/patients/${org}/profiles?limit=50&sort=risk_score&order=desc`,
      `/api/v1/patients/${org}/profiles?limit=50&sort=name&status=active`,
      `/api/v1/patients/${org}/risk-summary`,
    ]) {
      const res = await t.inject({ method: 'GET', url, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      out.push(res.json());
    }
    return out;
  };
  const logTriggers = (): Promise<unknown[]> => t.db.query(`SELECT tgname FROM pg_trigger WHERE tgname LIKE 'trg\\_pm\\_rebuild\\_log%' OR tgname = 'trg_patient_metrics_rebuild_log'`);
  const leftovers = (): Promise<unknown[]> => t.db.query(`SELECT relname FROM pg_class WHERE relname LIKE '%\\_rebuild' OR relname LIKE 'pmr\\_%'`);

  beforeAll(async () => {
    t = await createTestApp();
  }, 120_000);
  afterAll(() => t.close());

  it('creates no relation for a new organization, and keeps a small one in the shared partition, updated in place', async () => {
    const relations = async (): Promise<number> => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class`))[0].n;
    const before = await relations();
    await t.db.query(`INSERT INTO organizations (slug, name) VALUES ('layout-empty', 'Empty')`);
    expect(await relations()).toBe(before);

    const org = await seed('layout-small');
    const result = await run(org, 'update');
    expect(result).toMatchObject({ patients: 400 });
    expect(result.phases.rebuildMs).toBeUndefined();
    expect(await partitionOf(org)).toEqual([]);
    expect(await t.db.query(`SELECT to_regclass($1) AS r`, [ownPartition(org)])).toEqual([{ r: null }]);
    expect(await rowsIn(SHARED, org)).toBe(400);
    expect(await counts(org)).toEqual(await groups(org));
    // Under row-level security the runtime role sees its organization's rows only, and the shared partition by name
    // not at all.
    const tenantDb = t.app.get(TenantDb);
    expect(await tenantDb.transaction(org, (m) => m.query(`SELECT DISTINCT organization_id FROM patient_metrics`))).toEqual([{ organization_id: org }]);
    await expect(tenantDb.transaction(org, (m) => m.query(`SELECT count(*) FROM ${SHARED}`))).rejects.toThrow(/permission denied/);
  });

  it('moves an organization into a partition of its own on its first rebuild: the same reads before and after, none missed meanwhile', async () => {
    const org = await seed('layout-grows');
    const token = await memberToken(t, org, Role.Owner);
    await run(org, 'update');
    const rowsBefore = await metricsRows(org);
    const readsBefore = await reads(org, token);
    const countsBefore = await counts(org);

    // Readers of the organization's rows all through the move, as the runtime role: each sees the 400 rows, never
    // none, never twice.
    const tenantDb = t.app.get(TenantDb);
    const seen: number[] = [];
    let reading = true;
    let readers: Promise<void> = Promise.resolve();
    const result = await run(org, 'rebuild', {
      beforeSwap: () => {
        readers = (async () => {
          while (reading) {
            const [{ n }] = await tenantDb.transaction(org, (m) => m.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_metrics`));
            seen.push(n);
          }
        })();
        return new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    reading = false;
    await readers;
    expect(result).toMatchObject({ patients: 400, phases: { takenOver: 0 } });
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([400]));

    expect(await partitionOf(org)).toEqual([ownPartition(org)]);
    expect(await rowsIn(SHARED, org)).toBe(0);
    expect(await rowsIn(ownPartition(org), org)).toBe(400);
    expect(await metricsRows(org)).toEqual(rowsBefore);
    expect(await counts(org)).toEqual(countsBefore);
    expect(await reads(org, token)).toEqual(readsBefore);
    expect(await logTriggers()).toEqual([]);
    expect(await leftovers()).toEqual([]);
    expect(await t.db.query(`SELECT 1 FROM patient_metrics_rebuild_log`)).toEqual([]);
    const [part] = await t.db.query<{ indexes: number; fks: number; fillfactor: string[]; rls: boolean }>(
      `SELECT (SELECT count(*)::int FROM pg_index WHERE indrelid = c.oid) AS indexes,
              (SELECT count(*)::int FROM pg_constraint WHERE conrelid = c.oid AND contype = 'f' AND conparentid <> 0) AS fks,
              c.reloptions AS fillfactor, c.relrowsecurity AS rls
         FROM pg_class c WHERE c.relname = $1`,
      [ownPartition(org)],
    );
    expect(part).toEqual({ indexes: 10, fks: 2, fillfactor: ['fillfactor=50'], rls: true });
    // The shared partition's CHECK that keeps the organization out of it (so that no later ATTACH scans it).
    const exclusion = (): Promise<unknown[]> =>
      t.db.query(`SELECT convalidated FROM pg_constraint WHERE conrelid = '${SHARED}'::regclass AND conname = $1`, [`ck_pm_default_not_${org.replaceAll('-', '')}`]);
    expect(await exclusion()).toEqual([{ convalidated: true }]);

    // The next rebuild swaps its partition as before, and the update path writes it in place (and vacuums it).
    const again = await run(org, 'rebuild');
    expect(again).toMatchObject({ patients: 400, phases: { takenOver: 0 } });
    expect(await partitionOf(org)).toEqual([ownPartition(org)]);
    expect(await exclusion()).toEqual([{ convalidated: true }]);
    expect(await run(org, 'update')).toMatchObject({ patients: 400 });
    expect(await metricsRows(org)).toEqual(rowsBefore);
    expect(await reads(org, token)).toEqual(readsBefore);
    expect(await counts(org)).toEqual(await groups(org));
  });

  it('takes over what the request path wrote to the shared partition during the first rebuild', async () => {
    const org = await seed('layout-busy');
    await run(org, 'update');
    const other = await seed('layout-neighbour');
    await run(other, 'update');
    const neighbourRows = await metricsRows(other);
    const [x] = (await t.db.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id LIMIT 1`, [org])).map(
      (r) => r.id,
    );
    const result = await run(org, 'rebuild', {
      beforeSwap: async () => {
        // A soft delete removes x's row (logged: the organization's trigger on the shared partition); a write to the
        // neighbour's rows is not logged.
        await t.db.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [x, TEST_NOW]);
        await t.db.query(`UPDATE patient_metrics SET stale = true WHERE organization_id = $1`, [other]);
      },
    });
    expect(result.phases.takenOver).toBe(1);
    expect(await rowsIn(ownPartition(org), org)).toBe(399);
    expect(await t.db.query(`SELECT 1 FROM patient_metrics WHERE organization_id = $1 AND patient_id = $2`, [org, x])).toEqual([]);
    expect(await counts(org)).toEqual(await groups(org));
    expect(await rowsIn(SHARED, other)).toBe(400);
    expect((await metricsRows(other)).map((r) => ({ ...r, stale: false }))).toEqual(neighbourRows);
    expect(await counts(other)).toEqual(await groups(other));
  });

  it('leaves the organization in the shared partition, as it was, when its first rebuild fails', async () => {
    const org = await seed('layout-fails');
    await run(org, 'update');
    const before = await metricsRows(org);
    await expect(run(org, 'rebuild', { beforeSwap: () => Promise.reject(new Error('stop before the swap')) })).rejects.toThrow('stop before the swap');
    expect(await partitionOf(org)).toEqual([]);
    expect(await rowsIn(SHARED, org)).toBe(400);
    expect(await metricsRows(org)).toEqual(before);
    expect(await counts(org)).toEqual(await groups(org));
    expect(await logTriggers()).toEqual([]);
    expect(await leftovers()).toEqual([]);
  });

  it('erases a patient and deletes an organization of either kind', async () => {
    const small = await seed('layout-del-small', 150);
    const large = await seed('layout-del-large', 150);
    await run(small, 'update');
    await run(large, 'rebuild');
    expect(await partitionOf(large)).toEqual([ownPartition(large)]);
    // Its opportunities and engagement days too in partitions of their own, the shared ones' CHECKs keeping it out.
    await t.app.get(OpportunitiesRefresher).refresh(large, undefined, 'swap');
    await t.app.get(EngagementRollupService).rebuild(large, 'swap');
    const hex = large.replaceAll('-', '');
    const leftBy = async (org: string): Promise<{ partitions: string[]; checks: string[] }> => ({
      partitions: (
        await t.db.query<{ name: string }>(
          `SELECT relname AS name FROM pg_class WHERE relispartition AND pg_get_expr(relpartbound, oid) = format('FOR VALUES IN (%L)', $1::text) ORDER BY 1`,
          [org],
        )
      ).map((r) => r.name),
      checks: (await t.db.query<{ name: string }>(`SELECT conname AS name FROM pg_constraint WHERE conname LIKE '%' || $1 ORDER BY 1`, [org.replaceAll('-', '')])).map(
        (r) => r.name,
      ),
    });
    expect(await leftBy(large)).toEqual({
      partitions: [`engagement_days_${hex}`, ownPartition(large), `reengagement_opps_${hex}`],
      checks: [`ck_epd_default_not_${hex}`, `ck_pm_default_not_${hex}`, `ck_ro_default_not_${hex}`],
    });

    for (const org of [small, large]) {
      const token = await memberToken(t, org, Role.Owner);
      const [{ id }] = await t.db.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics WHERE organization_id = $1 LIMIT 1`, [org]);
      const res = await t.inject({
        method: 'POST',
        url: `/api/v1/patients/${org}/profile/${id}/erasure`,
        headers: bearer(token),
        payload: { reason: 'Asked by letter', basis: 'patient_request' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json<{ records_deleted: Record<string, number> }>().records_deleted).toMatchObject({ patient_metrics: 1 });
      expect(await t.db.query(`SELECT 1 FROM patient_metrics WHERE patient_id = $1`, [id])).toEqual([]);
      expect(await rowsIn('patient_metrics', org)).toBe(149);
      expect(await counts(org)).toEqual(await groups(org));
    }

    // The seed's replacement of an organization (as the superuser: table by table), then a plain cascading delete.
    const client = new Client({ connectionString: t.db.url });
    await client.connect();
    try {
      for (const slug of ['layout-del-small', 'layout-del-large']) {
        await client.query('BEGIN');
        await deleteOrganization(client, slug);
        await client.query('COMMIT');
      }
    } finally {
      await client.end();
    }
    for (const org of [small, large]) expect(await rowsIn('patient_metrics', org)).toBe(0);
    expect(await t.db.query(`SELECT to_regclass($1) AS r`, [ownPartition(large)])).toEqual([{ r: null }]);
    expect(await leftBy(large)).toEqual({ partitions: [], checks: [] });
    expect(await t.db.query(`SELECT count(*)::int AS n FROM organizations WHERE id = ANY($1::uuid[])`, [[small, large]])).toEqual([{ n: 0 }]);

    const cascaded = await seed('layout-cascade', 150);
    await run(cascaded, 'update');
    await t.db.query(`DELETE FROM organizations WHERE id = $1`, [cascaded]);
    expect(await rowsIn(SHARED, cascaded)).toBe(0);
  });

  it('migrates: small organizations\' partitions moved into the shared one, large ones kept, the same rows and counts; and back', async () => {
    // Two organizations with partitions of their own (the layout before the migration, for these two): the small one
    // of 150 rows, the "large" one of 400 (the migration's threshold lowered to 300 for the test).
    const small = await seed('layout-mig-small', 150);
    const large = await seed('layout-mig-large', 400);
    for (const org of [small, large]) await run(org, 'rebuild');
    const before = { small: await metricsRows(small), large: await metricsRows(large), smallCounts: await counts(small), largeCounts: await counts(large) };
    const migrate = async (step: (m: PatientMetricsSharedPartition1795567900000, qr: ReturnType<DataSource['createQueryRunner']>) => Promise<void>): Promise<void> => {
      const ds = new DataSource(dataSourceOptions({ url: t.db.url, asRuntimeRole: false, poolSize: 1 }));
      await ds.initialize();
      const qr = ds.createQueryRunner();
      try {
        await step(new PatientMetricsSharedPartition1795567900000(300), qr);
      } finally {
        await qr.release();
        await ds.destroy();
      }
    };
    await migrate((m, qr) => m.up(qr));
    expect(await partitionOf(small)).toEqual([]);
    expect(await rowsIn(SHARED, small)).toBe(150);
    expect(await partitionOf(large)).toEqual([ownPartition(large)]);
    expect(await metricsRows(small)).toEqual(before.small);
    expect(await metricsRows(large)).toEqual(before.large);
    expect(await counts(small)).toEqual(before.smallCounts);
    expect(await counts(large)).toEqual(before.largeCounts);
    expect(await t.db.query(`SELECT to_regclass($1) AS r`, [ownPartition(small)])).toEqual([{ r: null }]);

    // Down: a partition per organization again, the rows and counts unchanged; an organization inserted then gets one.
    await migrate((m, qr) => m.down(qr));
    expect(await partitionOf(small)).toEqual([ownPartition(small)]);
    expect(await t.db.query(`SELECT to_regclass($1) AS r`, [SHARED])).toEqual([{ r: null }]);
    expect(await metricsRows(small)).toEqual(before.small);
    expect(await counts(small)).toEqual(before.smallCounts);
    const [{ id }] = await t.db.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ('layout-mig-new', 'New') RETURNING id`);
    expect(await partitionOf(id)).toEqual([ownPartition(id)]);

    // And up again: every small organization back in the shared partition.
    await migrate((m, qr) => m.up(qr));
    expect(await partitionOf(small)).toEqual([]);
    expect(await partitionOf(id)).toEqual([]);
    expect(await partitionOf(large)).toEqual([ownPartition(large)]);
    expect(await metricsRows(small)).toEqual(before.small);
    expect(await counts(small)).toEqual(before.smallCounts);
    expect(await t.db.query(`SELECT tgname FROM pg_trigger WHERE tgname = 'trg_organizations_metrics_partition'`)).toEqual([]);

    // The large organization kept its partition without the shared partition's CHECK for it: its next rebuild adds
    // it (validated outside the swap's locks) and swaps as before.
    const exclusion = `ck_pm_default_not_${large.replaceAll('-', '')}`;
    const checks = (): Promise<unknown[]> => t.db.query(`SELECT convalidated FROM pg_constraint WHERE conname = $1`, [exclusion]);
    expect(await checks()).toEqual([]);
    expect(await run(large, 'rebuild')).toMatchObject({ patients: 400 });
    expect(await checks()).toEqual([{ convalidated: true }]);
    expect(await metricsRows(large)).toEqual(before.large);
  });
});
