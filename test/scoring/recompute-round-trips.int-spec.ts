import { Client } from 'pg';
import { Database } from 'src/database/database';
import { RECOMPUTE_SESSION, recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ReusedConnections } from 'src/scoring/recompute/recompute-connections';
import { readRunSetup } from 'src/scoring/recompute/recompute-setup';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { createTestApp, TestApp, TEST_NOW } from 'test/utils/test-app';
import { recomputeOrganizationWithUrl, simulatedClinic } from 'test/scoring/scoring-fixtures';

/**
 * A small clinic's organization-wide run in fewer round trips (docs/scaling.md, "The recompute's round trips"): its
 * setup in one statement that also tries the run's advisory lock, its statements prepared on reused connections, its
 * last statement and its unlock in its write's COMMIT message.
 */
describe("a small clinic's recompute in fewer round trips", () => {
  let t: TestApp;
  const repos = new ScoringRepositories();

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A clinic of `n` patients whose visits follow the BG/NBD story (enough for an accepted fit). */
  const clinic = (n: number, seed: number): Promise<string> => simulatedClinic(t.db, n, seed);

  const scores = (org: string): Promise<Record<string, unknown>[]> =>
    t.db.query(
      `SELECT patient_id, status, risk_score, risk_level, engagement_score, ltv_cents, future_value_cents, success_probability FROM patient_metrics WHERE organization_id = $1 ORDER BY patient_id`,
      [org],
    );
  const recomputeLocks = async (): Promise<number> =>
    (
      await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      )
    )[0].n;

  it('reads in one statement what the five separate reads return, and tries the lock', async () => {
    const org = await clinic(120, 61);
    await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false });
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'round-trips-test' });
    const [a, b] = [await database.batchConnection(org, 'round-trips-test'), await database.batchConnection(org, 'round-trips-test')];
    try {
      const setup = await readRunSetup(a, 8, { tryLock: true });
      expect(setup).not.toBeNull();
      const organization = await repos.organizations.own(a);
      const boundaries = await repos.features.chunkBoundaries(a, 8);
      const stored = await repos.fits.latestFits(a);
      expect(setup).toEqual({ locked: true, organization, boundaries, keptKeySample: expect.any(String), stored });
      expect(setup?.boundaries.patients).toBe(120);
      expect(setup?.boundaries.ids).toHaveLength(14); // 120 patients, a boundary every 8 (the first chunk's start excluded)
      expect(stored?.models).not.toBeNull();
      const key = keptFeaturesKey(organizationScoringSettings(organization?.settings ?? {}));
      expect(setup?.keptKeySample).toBe(key);
      expect(await repos.features.hasKeptFeatures(a, key)).toBe(true);
      // Another session cannot take the lock while the first holds it; the reads come all the same.
      const other = await readRunSetup(b, 8, { tryLock: true });
      expect(other).toMatchObject({ locked: false, boundaries: setup?.boundaries, stored });
      // Without tryLock, no lock is asked for.
      expect(await readRunSetup(b, 8, { tryLock: false })).toMatchObject({ locked: false, organization });
      await a.query(`SELECT pg_advisory_unlock(hashtextextended('recompute:' || $1, 0))`, [org]);
      expect(await readRunSetup(b, 8, { tryLock: true })).toMatchObject({ locked: true });
      await b.query(`SELECT pg_advisory_unlock(hashtextextended('recompute:' || $1, 0))`, [org]);
      // An organization that does not exist: null, no lock taken.
      const gone = await database.batchConnection('00000000-0000-4000-8000-000000000001', 'round-trips-test');
      try {
        expect(await readRunSetup(gone, 8, { tryLock: true })).toBeNull();
        expect(await recomputeLocks()).toBe(0);
      } finally {
        await gone.end();
      }
    } finally {
      await Promise.all([a.end(), b.end()]);
      await database.close();
    }
  });

  it('scores the same with its statements prepared on reused connections, ends unlocked, and drops the deleted patients', async () => {
    const [x, y] = [await clinic(90, 71), await clinic(70, 81)];
    // Fits stored first (fresh connections), then a patient of x deleted: it has a metrics row the runs must drop.
    for (const org of [x, y]) await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false, refit: 'when-due' });
    const [gone] = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id LIMIT 1`, [x]);
    // Soft-deleted without the triggers that drop its metrics row at once (as a row written by a run that raced the
    // deletion would be): the run's last statement must drop it.
    const owner = new Client({ connectionString: t.db.url });
    await owner.connect();
    try {
      await owner.query(`BEGIN; SET LOCAL session_replication_role = replica`);
      await owner.query(`UPDATE patients SET deleted_at = $2 WHERE id = $1`, [gone.id, TEST_NOW]);
      await owner.query(`COMMIT`);
    } finally {
      await owner.end();
    }
    expect((await scores(x)).filter((r) => r.patient_id === gone.id)).toHaveLength(1);
    const name = 'round-trips-reused';
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'round-trips-test' });
    const connections = new ReusedConnections(database, name, RECOMPUTE_SESSION);
    try {
      // Six runs over the same two connections (PostgreSQL settles on a generic plan after five of a statement).
      for (let round = 0; round < 3; round++) {
        for (const org of [x, y]) {
          const result = await recomputeOrganization(database, repos, org, TEST_NOW, { connections, vacuum: 'own-partition', refit: 'when-due', prepare: true });
          expect(result).toMatchObject({ patients: org === x ? 89 : 70 });
          // Unlocked with its last COMMIT: no advisory lock left anywhere.
          expect(await recomputeLocks()).toBe(0);
        }
      }
      const reused = [await scores(x), await scores(y)];
      expect(reused[0]).toHaveLength(89);
      expect(reused[0].filter((r) => r.patient_id === gone.id)).toEqual([]);
      // The same scores as runs on fresh connections, nothing prepared.
      for (const org of [x, y]) await recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false, refit: 'when-due' });
      expect(await scores(x)).toEqual(reused[0]);
      expect(await scores(y)).toEqual(reused[1]);
      // Its statements are prepared on the two reused connections (named after their text), and were run again there.
      const prepared = new Client({ connectionString: t.db.url });
      await prepared.connect();
      try {
        const backends = (await prepared.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [name])).rows;
        expect(backends).toHaveLength(2);
      } finally {
        await prepared.end();
      }
      const onIdle = await connections.acquire(x);
      try {
        const statements = await onIdle.query<{ name: string; generic_plans: number; custom_plans: number }>(
          `SELECT name, generic_plans::int AS generic_plans, custom_plans::int AS custom_plans FROM pg_prepared_statements WHERE name LIKE 'bt\\_%' ORDER BY name`,
        );
        expect(statements.length).toBeGreaterThanOrEqual(1);
        expect(statements.every((s) => /^bt_[A-Za-z0-9_-]{20}$/.test(s.name))).toBe(true);
        // Run again and again on this connection (each connection served the six runs, as their first or second).
        expect(Math.max(...statements.map((s) => s.generic_plans + s.custom_plans))).toBeGreaterThanOrEqual(3);
      } finally {
        await connections.release(onIdle, true);
      }
    } finally {
      await connections.close();
      await database.close();
    }
  });

  it('waits for a run of the same clinic that holds the lock, then reads afresh', async () => {
    const org = await clinic(50, 91);
    const holder = new Client({ connectionString: t.db.url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtextextended('recompute:' || $1, 0))`, [org]);
      let finished = false;
      const run = recomputeOrganizationWithUrl(t.db.url, org, TEST_NOW, { vacuum: false }).then((r) => ((finished = true), r));
      await new Promise((r) => setTimeout(r, 500));
      expect(finished).toBe(false);
      // A patient added while it waits is in its run (its setup read again once it had the lock).
      await t.db.query(`INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'sim', 'late', 'Late')`, [org]);
      await holder.query(`SELECT pg_advisory_unlock(hashtextextended('recompute:' || $1, 0))`, [org]);
      expect(await run).toMatchObject({ patients: 51 });
      expect(await scores(org)).toHaveLength(51);
      expect(await recomputeLocks()).toBe(0);
    } finally {
      await holder.end();
    }
  });

  it("sends statements with a transaction's COMMIT, and what follows it only once it committed", async () => {
    const org = await clinic(5, 101);
    const database = new Database({ url: t.db.url, poolSize: 1, applicationName: 'round-trips-test' });
    const c = await database.batchConnection(org, 'round-trips-test');
    try {
      await c.transaction(() => c.query(`SELECT 1`), {
        beforeCommit: `CREATE TEMP TABLE after_commit (v int); INSERT INTO after_commit VALUES (1)`,
        afterCommit: `INSERT INTO after_commit VALUES (2)`,
      });
      expect(await c.query(`SELECT v FROM after_commit ORDER BY v`)).toEqual([{ v: 1 }, { v: 2 }]);
      // A failing statement before the COMMIT: rolled back, and what follows the COMMIT is not run.
      await expect(
        c.transaction(() => c.query(`INSERT INTO after_commit VALUES (3)`), {
          beforeCommit: `SELECT 1 / 0`,
          afterCommit: `INSERT INTO after_commit VALUES (4)`,
        }),
      ).rejects.toThrow('division by zero');
      expect(await c.query(`SELECT v FROM after_commit ORDER BY v`)).toEqual([{ v: 1 }, { v: 2 }]);
    } finally {
      await c.end();
      await database.close();
    }
  });
});
