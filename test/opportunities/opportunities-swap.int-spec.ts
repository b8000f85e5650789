import { Client } from 'pg';
import { FixedClock } from 'src/common/clock/clock';
import { loadSettings } from 'src/config/settings';
import { Database } from 'src/database/database';
import { COMMAND_DATABASE_RESILIENCE } from 'src/database/resilience/database-resilience';
import { seedOrganization } from 'src/demo-data/seed';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { OPPORTUNITIES_SHARED_PARTITION, opportunityTables } from 'src/opportunities/opportunities-partition-swap';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * A large organization's refresh by build and swap (src/opportunities/opportunities-partition-swap.ts): the rows, the
 * instants each keeps and the totals are those the update path leaves, column by column; a small organization stays
 * in the shared partition, untouched; row-level security holds on the swapped partition; the per-patient patch works
 * after a swap; a build that fails leaves the rows as they were.
 */

const keyring = createPhiKeyring(loadSettings({ NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR ?? '.data/test' }));
const COLUMNS = `organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents,
  success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at`;

describe('opportunities refresh by build and swap', () => {
  let db: TestDatabase;
  let database: Database;
  let big: string;
  let small: string;
  const clock = new FixedClock(TEST_NOW);
  const repository = new OpportunitiesRepository();
  let refresher: OpportunitiesRefresher;

  /**
   * The organization's rows as the update path or the swap left them: every column, whether `updated_at` moved, and
   * `created_at` unless the row is new (then the transaction's start, which differs from run to run).
   */
  async function snapshot(organizationId: string, since: Date): Promise<Record<string, unknown>[]> {
    return db.query(
      `SELECT ${COLUMNS}, updated_at >= $2 AS touched, CASE WHEN created_at < $2 THEN created_at END AS created_at, created_at >= $2 AS new
         FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`,
      [organizationId, since],
    );
  }

  const refreshRow = async (organizationId: string): Promise<{ ltv_threshold_cents: number; totals: unknown; refreshed_at: Date }> =>
    (await db.query<{ ltv_threshold_cents: number; totals: unknown; refreshed_at: Date }>(
      `SELECT ltv_threshold_cents, totals, refreshed_at FROM opportunity_refreshes WHERE organization_id = $1`,
      [organizationId],
    ))[0];

  /** The partition holding the organization's rows. */
  const partitionOf = async (organizationId: string): Promise<string[]> =>
    (await db.query<{ p: string }>(`SELECT DISTINCT tableoid::regclass::text AS p FROM reengagement_opportunities WHERE organization_id = $1`, [organizationId])).map((r) => r.p);

  /**
   * Runs the update path, keeps what it wrote, puts the rows and the refresh state back as they were, runs the swap:
   * both must leave the same.
   */
  async function bothPaths(): Promise<{ update: Record<string, unknown>[]; swap: Record<string, unknown>[] }> {
    await db.query(`DROP TABLE IF EXISTS kept_rows, kept_refresh`);
    await db.query(`CREATE TABLE kept_rows AS SELECT * FROM reengagement_opportunities WHERE organization_id = $1`, [big]);
    await db.query(`CREATE TABLE kept_refresh AS SELECT * FROM opportunity_refreshes WHERE organization_id = $1`, [big]);
    const since = new Date();
    const viaUpdate = await refresher.refresh(big, undefined, 'update');
    const update = await snapshot(big, since);
    const updateState = await refreshRow(big);
    await db.query(`DELETE FROM reengagement_opportunities WHERE organization_id = $1`, [big]);
    await db.query(`INSERT INTO reengagement_opportunities SELECT * FROM kept_rows`);
    await db.query(`DELETE FROM opportunity_refreshes WHERE organization_id = $1`, [big]);
    await db.query(`INSERT INTO opportunity_refreshes SELECT * FROM kept_refresh`);
    const viaSwap = await refresher.refresh(big, undefined, 'swap');
    const swap = await snapshot(big, since);
    const swapState = await refreshRow(big);
    expect(viaSwap.opportunities).toBe(viaUpdate.opportunities);
    expect(viaSwap.ltvThresholdCents).toBe(viaUpdate.ltvThresholdCents);
    expect(swapState.totals).toEqual(updateState.totals);
    expect(swapState.ltv_threshold_cents).toBe(updateState.ltv_threshold_cents);
    expect(swapState.refreshed_at).toEqual(updateState.refreshed_at);
    return { update, swap };
  }

  /** Moves the scores of most of the organization's patients, as a next-day recompute does. */
  const moveScores = (organizationId: string, factor: number): Promise<unknown> =>
    db.query(
      `UPDATE patient_metrics SET success_probability = least(1, success_probability * $2 + 0.05)
        WHERE organization_id = $1 AND abs(hashtext(patient_id::text)) % 10 <> 0`,
      [organizationId, factor],
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    const seed = (slug: string, patients: number): Promise<{ organizationId: string }> =>
      seedOrganization(db.url, {
        slug,
        name: slug,
        kind: 'physiotherapy',
        patients,
        seed: 42,
        now: new Date(TEST_NOW.getTime() - 3 * 86_400_000),
        cipher: keyring.master,
        chunkSize: 400,
      });
    ({ organizationId: big } = await seed('opps-swap-big', 900));
    ({ organizationId: small } = await seed('opps-swap-small', 200));
    database = new Database({ url: db.url, poolSize: 2, applicationName: 'opportunities-swap-test' });
    refresher = new OpportunitiesRefresher(database.tenants, repository, clock, undefined, undefined, database);
    await refresher.refresh(big, undefined, 'update');
    await refresher.refresh(small);
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('leaves the rows, their instants and the totals the update path leaves, moving the organization out of the shared partition, then replacing its own', async () => {
    expect(await partitionOf(big)).toEqual([OPPORTUNITIES_SHARED_PARTITION]);
    const smallBefore = await db.query(`SELECT xmin::text, patient_id FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [small]);
    expect(smallBefore.length).toBeGreaterThan(20);

    // The first swap: out of the shared partition.
    await moveScores(big, 0.9);
    clock.set(new Date(TEST_NOW.getTime() + 86_400_000));
    const first = await bothPaths();
    expect(first.update.length).toBeGreaterThan(200);
    expect(first.swap).toEqual(first.update);
    // Some rows kept (not moved by the scores), most changed: both cases compared.
    expect(first.update.filter((r) => r.touched).length).toBeGreaterThan(first.update.length / 2);
    expect(first.update.filter((r) => !r.touched).length).toBeGreaterThan(0);
    expect(first.update.filter((r) => r.new).length).toBeGreaterThan(0);
    expect(await partitionOf(big)).toEqual([opportunityTables(big).live]);

    // The second: its own partition replaced.
    await moveScores(big, 1.05);
    clock.set(new Date(TEST_NOW.getTime() + 2 * 86_400_000));
    const second = await bothPaths();
    expect(second.swap).toEqual(second.update);
    expect(await partitionOf(big)).toEqual([opportunityTables(big).live]);

    // The small organization: still in the shared partition, its rows not written, no relation of its own.
    expect(await partitionOf(small)).toEqual([OPPORTUNITIES_SHARED_PARTITION]);
    expect(await db.query(`SELECT xmin::text, patient_id FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [small])).toEqual(smallBefore);
    const [{ own }] = await db.query<{ own: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS own`, [opportunityTables(small).live]);
    expect(own).toBe(false);
    // Nothing left over: no fresh table.
    const [{ fresh }] = await db.query<{ fresh: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS fresh`, [opportunityTables(big).fresh]);
    expect(fresh).toBe(false);
  });

  it('keeps row-level security: the partition has it on, no grant, and another organization sees none of its rows', async () => {
    const live = opportunityTables(big).live;
    const [rel] = await db.query<{ rls: boolean; grants: number; indexes: number }>(
      `SELECT c.relrowsecurity AS rls,
              (SELECT count(*)::int FROM information_schema.role_table_grants g WHERE g.table_name = c.relname AND g.grantee = 'patient_journey_app') AS grants,
              (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
         FROM pg_class c WHERE c.relname = $1`,
      [live],
    );
    expect(rel).toEqual({ rls: true, grants: 0, indexes: 4 });
    const asRuntime = async (organizationId: string, sql: string): Promise<{ n: number }[]> => {
      const client = await database.batchConnection(organizationId, 'opportunities-swap-test-rls');
      try {
        return await client.query<{ n: number }>(sql);
      } finally {
        await client.end();
      }
    };
    const [{ n: seenByOther }] = await asRuntime(small, `SELECT count(*)::int AS n FROM reengagement_opportunities WHERE organization_id = '${big}'`);
    expect(seenByOther).toBe(0);
    const [{ n: seenByOwn }] = await asRuntime(big, `SELECT count(*)::int AS n FROM reengagement_opportunities`);
    expect(seenByOwn).toBeGreaterThan(200);
    await expect(asRuntime(big, `SELECT count(*)::int AS n FROM ${live}`)).rejects.toThrow(/permission denied/);
  });

  it("patches one patient after a swap as a refresh would classify it", async () => {
    const [{ patient_id: patientId }] = await db.query<{ patient_id: string }>(
      `SELECT patient_id FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id LIMIT 1`,
      [big],
    );
    await db.query(`UPDATE patient_metrics SET success_probability = 0.5 * success_probability WHERE patient_id = $1`, [patientId]);
    await refresher.refreshPatients(big, [patientId]);
    const [patched] = await db.query<{ xmin: string; success_probability: number }>(
      `SELECT xmin::text, success_probability FROM reengagement_opportunities WHERE patient_id = $1`,
      [patientId],
    );
    expect(patched).toBeDefined();
    const totals = (await refreshRow(big)).totals;
    // A refresh by the update path now finds that row as the patch wrote it (it rewrites only rows that differ) and
    // the same totals the patch kept.
    await refresher.refresh(big, undefined, 'update');
    const [after] = await db.query<{ xmin: string }>(`SELECT xmin::text FROM reengagement_opportunities WHERE patient_id = $1`, [patientId]);
    expect(after.xmin).toBe(patched.xmin);
    expect((await refreshRow(big)).totals).toEqual(totals);
  });

  it("validates the parent's foreign keys on the fresh table before the swap, which ATTACH then adopts", async () => {
    const fks = (table: string): Promise<Record<string, unknown>[]> =>
      db.query(
        `SELECT c.conname, pg_get_constraintdef(c.oid) AS def, c.convalidated, p.conname AS parent
           FROM pg_constraint c LEFT JOIN pg_constraint p ON p.oid = c.conparentid
          WHERE c.conrelid = $1::regclass AND c.contype = 'f' ORDER BY c.conname`,
        [table],
      );
    const parentFks = await fks('reengagement_opportunities');
    expect(parentFks.map((f) => f.def)).toEqual(expect.arrayContaining([expect.stringMatching(/REFERENCES patients/), expect.stringMatching(/REFERENCES organizations/)]));
    let beforeSwap: Record<string, unknown>[] = [];
    // At 0.9 the indexes and constraints are in and the swap's locks not yet taken.
    const inspect = async (fraction: number): Promise<void> => {
      if (fraction === 0.9) beforeSwap = await fks(opportunityTables(big).fresh);
    };
    await refresher.refresh(big, inspect, 'swap');
    expect(beforeSwap).toEqual(parentFks.map((f) => ({ ...f, convalidated: true, parent: null })));
    expect(await fks(opportunityTables(big).live)).toEqual(parentFks.map((f) => ({ ...f, convalidated: true, parent: f.conname })));
  });

  it("adds the foreign keys without queueing the patients' writers behind a long transaction", async () => {
    // A long transaction holds a write lock on `patients`. Adding a foreign key to the fresh table must lock `patients`
    // against writers; waiting for that lock without a bound would queue every later writer of `patients` behind it
    // until the long transaction ends. Under short locks (withShortLocks) the refresh retries instead.
    const connect = async (): Promise<Client> => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      return c;
    };
    const [long, writer, watcher] = await Promise.all([connect(), connect(), connect()]);
    try {
      const [a, b] = await db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id LIMIT 2`, [big]);
      await long.query('BEGIN');
      await long.query(`UPDATE patients SET updated_at = updated_at WHERE id = $1`, [a.id]);
      const refresh = refresher.refresh(big, undefined, 'swap');
      refresh.catch(() => undefined);
      // Until the refresh has asked for its lock at least once (a generous bound).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const waiting = await watcher.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE % ADD CONSTRAINT %NOT VALID'`,
        );
        if (waiting.rows.length > 0) break;
        if (Date.now() > deadline) throw new Error('the refresh never waited for its foreign key lock');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Another writer of `patients` gets through (it would wait behind the queued ALTER for as long as `long` lasts).
      await writer.query(`SET lock_timeout = '2s'`);
      await expect(writer.query(`UPDATE patients SET updated_at = updated_at WHERE id = $1`, [b.id])).resolves.toMatchObject({ rowCount: 1 });
      await long.query('COMMIT');
      await expect(refresh).resolves.toMatchObject({ organizationId: big });
      expect(await partitionOf(big)).toEqual([opportunityTables(big).live]);
    } finally {
      await long.query('ROLLBACK').catch(() => undefined);
      await Promise.all([long.end(), writer.end(), watcher.end()]);
    }
  });

  it('leaves the rows and the refresh state as they were when the build fails, before or after its indexes', async () => {
    const before = await db.query(`SELECT xmin::text, * FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [big]);
    const state = await refreshRow(big);
    await moveScores(big, 0.8);
    clock.set(new Date(TEST_NOW.getTime() + 3 * 86_400_000));
    for (const at of [0.5, 0.9]) {
      const stop = async (fraction: number): Promise<void> => {
        if (fraction === at) throw new Error(`stopped at ${at}`);
      };
      await expect(refresher.refresh(big, stop, 'swap')).rejects.toThrow(`stopped at ${at}`);
      expect(await db.query(`SELECT xmin::text, * FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [big])).toEqual(before);
      expect(await refreshRow(big)).toEqual(state);
      const [{ fresh }] = await db.query<{ fresh: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS fresh`, [opportunityTables(big).fresh]);
      expect(fresh).toBe(false);
    }
    // And the refresh lock was let go: a patch and a swap run afterwards.
    await expect(refresher.refreshPatients(big, [before[0].patient_id as string])).resolves.toBeGreaterThanOrEqual(0);
    await expect(refresher.refresh(big, undefined, 'swap')).resolves.toMatchObject({ organizationId: big });
  });

  it('builds in two halves at once, split at the middle patient, each half its own transaction on its own connection', async () => {
    const calls: { after: string | null | undefined; upTo: string | null | undefined; pid: number }[] = [];
    const spying = new (class extends OpportunitiesRepository {
      override async buildInto(sql: Parameters<OpportunitiesRepository['buildInto']>[0], table: string, o: Parameters<OpportunitiesRepository['buildInto']>[2]) {
        const [{ pid }] = await sql.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
        calls.push({ after: o.after, upTo: o.upTo, pid });
        return super.buildInto(sql, table, o);
      }
    })();
    const split = new OpportunitiesRefresher(database.tenants, spying, clock, undefined, undefined, database);
    const [{ middle }] = await db.query<{ middle: string }>(
      `SELECT patient_id AS middle FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id
        OFFSET (SELECT count(*) / 2 FROM patient_metrics WHERE organization_id = $1) LIMIT 1`,
      [big],
    );
    await moveScores(big, 0.95);
    clock.set(new Date(TEST_NOW.getTime() + 4 * 86_400_000));
    const since = new Date();
    const result = await split.refresh(big, undefined, 'swap');
    expect(calls).toHaveLength(2);
    // The halves start at once: the order in which they record their calls is a race, so compare them sorted.
    const ranges = calls.map((c) => [c.after ?? null, c.upTo ?? null]).sort((a, b) => (a[0] === null ? -1 : b[0] === null ? 1 : 0));
    expect(ranges).toEqual([
      [null, middle],
      [middle, null],
    ]);
    expect(calls[0].pid).not.toBe(calls[1].pid);
    // Every candidate once: the halves' rows are those of the update path, and both halves have some.
    const swapped = await snapshot(big, since);
    expect(swapped.length).toBe(result.opportunities);
    expect(swapped.filter((r) => (r.patient_id as string) <= middle).length).toBeGreaterThan(0);
    expect(swapped.filter((r) => (r.patient_id as string) > middle).length).toBeGreaterThan(0);
    const viaUpdate = await refresher.refresh(big, undefined, 'update');
    expect(viaUpdate.opportunities).toBe(result.opportunities);
    expect((await snapshot(big, since)).map(({ touched: _t, created_at: _c, new: _n, ...r }) => r)).toEqual(
      swapped.map(({ touched: _t, created_at: _c, new: _n, ...r }) => r),
    );
  });

  it('runs the upper half after the lower, on the first connection, when the pool has no second connection free', async () => {
    const calls: { after: string | null | undefined; pid: number }[] = [];
    const spying = new (class extends OpportunitiesRepository {
      override async buildInto(sql: Parameters<OpportunitiesRepository['buildInto']>[0], table: string, o: Parameters<OpportunitiesRepository['buildInto']>[2]) {
        const [{ pid }] = await sql.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
        calls.push({ after: o.after, pid });
        return super.buildInto(sql, table, o);
      }
    })();
    // A pool of one connection, taken by the build's first transaction: the second half's wait ends at the acquire timeout.
    const one = new Database({
      url: db.url,
      poolSize: 1,
      applicationName: 'opportunities-swap-one',
      resilience: { ...COMMAND_DATABASE_RESILIENCE, acquireTimeoutMs: 300 },
    });
    try {
      const saturated = new OpportunitiesRefresher(one.tenants, spying, clock, undefined, undefined, one);
      await moveScores(big, 0.9);
      clock.set(new Date(TEST_NOW.getTime() + 5 * 86_400_000));
      const since = new Date();
      const result = await saturated.refresh(big, undefined, 'swap');
      expect(calls.map((c) => c.after ?? null)).toEqual([null, expect.any(String)]);
      expect(calls[0].pid).toBe(calls[1].pid);
      const swapped = await snapshot(big, since);
      expect(swapped.length).toBe(result.opportunities);
      const viaUpdate = await refresher.refresh(big, undefined, 'update');
      expect(viaUpdate.opportunities).toBe(result.opportunities);
      expect((await snapshot(big, since)).map(({ touched: _t, created_at: _c, new: _n, ...r }) => r)).toEqual(
        swapped.map(({ touched: _t, created_at: _c, new: _n, ...r }) => r),
      );
    } finally {
      await one.close();
    }
  });

  it('fails as a whole when one half fails, after the other has finished: the rows, the state and the lock as they were', async () => {
    const before = await db.query(`SELECT xmin::text, * FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [big]);
    const state = await refreshRow(big);
    let lowerDone = false;
    const failing = new (class extends OpportunitiesRepository {
      override async buildInto(sql: Parameters<OpportunitiesRepository['buildInto']>[0], table: string, o: Parameters<OpportunitiesRepository['buildInto']>[2]) {
        if (o.after) throw new Error('the upper half failed');
        const totals = await super.buildInto(sql, table, o);
        lowerDone = true;
        return totals;
      }
    })();
    const split = new OpportunitiesRefresher(database.tenants, failing, clock, undefined, undefined, database);
    await expect(split.refresh(big, undefined, 'swap')).rejects.toThrow('the upper half failed');
    expect(lowerDone).toBe(true);
    expect(await db.query(`SELECT xmin::text, * FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [big])).toEqual(before);
    expect(await refreshRow(big)).toEqual(state);
    const [{ fresh }] = await db.query<{ fresh: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS fresh`, [opportunityTables(big).fresh]);
    expect(fresh).toBe(false);
    await expect(refresher.refresh(big, undefined, 'swap')).resolves.toMatchObject({ organizationId: big });
  });
});
