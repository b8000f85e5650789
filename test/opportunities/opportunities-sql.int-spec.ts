import { FixedClock } from 'src/common/clock/clock';
import { loadSettings } from 'src/config/settings';
import { Database } from 'src/database/database';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { seedOrganization } from 'src/demo-data/seed';
import { classify, DEFAULT_RECALL_DAYS, Opportunity } from 'src/opportunities/domain/opportunity-rules';
import type { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import type { JobHandler } from 'src/jobs/job-handler';
import type { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { REBUILD_SETTINGS } from 'src/database/tenant/rebuild-settings';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * The refresh classifies in SQL (src/opportunities/opportunities.sql.ts); these tests hold its rows equal, column by
 * column, to what the rules of `domain/opportunity-rules.ts` give when run in Node over the facts query (the refresh
 * as it was: `classify` per patient, rows sent back by `unnest`), and the per-patient patch equal to the refresh.
 */

const keyring = createPhiKeyring(loadSettings({ NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR ?? '.data/test' }));
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const COLUMNS = `organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status, estimated_value_cents,
  success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at`;

describe('opportunities refresh in SQL', () => {
  let db: TestDatabase;
  let database: Database;
  let organizationId: string;
  const clock = new FixedClock(TEST_NOW);
  const repository = new OpportunitiesRepository();
  let refresher: OpportunitiesRefresher;
  let owner: TenantSql;

  /** The old path into `old_opportunities`: the facts in batches of 5,000, `classify` in Node, the rows by `unnest`. */
  async function oldPath(patientIds: readonly string[] | null = null, threshold?: number): Promise<{ rows: number; totals: OpportunityTotal[]; threshold: number }> {
    await db.query(`TRUNCATE old_opportunities`);
    const rules = await repository.organizationRules(owner);
    const org = { ltvThresholdCents: threshold ?? rules.ltvThresholdCents, recallDays: rules.recallDays ?? DEFAULT_RECALL_DAYS };
    const now = clock.now();
    const found: Opportunity[] = [];
    for (let after = NIL_UUID; ; ) {
      const facts = await repository.facts(owner, now, after, 5000, patientIds);
      for (const f of facts) {
        const o = classify(f, org, now);
        if (o) found.push(o);
      }
      if (facts.length < 5000) break;
      after = facts[facts.length - 1].patientId;
    }
    await db.query(
      `INSERT INTO old_opportunities (${COLUMNS})
       SELECT $1::uuid, u.*, $13::timestamptz
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::int[], $9::real[], $10::float8[], $11::timestamptz[], $12::timestamptz[]) AS u`,
      [
        organizationId,
        found.map((r) => r.patientId),
        found.map((r) => r.type),
        found.map((r) => r.priority),
        found.map((r) => r.outreach),
        found.map((r) => r.channel),
        found.map((r) => r.patientStatus),
        found.map((r) => r.estimatedValueCents),
        found.map((r) => r.successProbability),
        found.map((r) => r.expectedReturnCents),
        found.map((r) => r.lastContactAt),
        found.map((r) => r.expectedVisitAt),
        now,
      ],
    );
    const totals = new Map<string, OpportunityTotal>();
    for (const o of found) {
      const t = totals.get(`${o.type}:${o.priority}`) ?? { type: o.type, priority: o.priority, count: 0, valueCents: 0 };
      t.count += 1;
      t.valueCents += o.estimatedValueCents;
      totals.set(`${o.type}:${o.priority}`, t);
    }
    return { rows: found.length, totals: [...totals.values()], threshold: org.ltvThresholdCents };
  }

  /** Rows of one side missing from the other (every column compared; none expected). */
  const difference = (patientIds: readonly string[] | null = null): Promise<Record<string, unknown>[]> =>
    db.query(
      `WITH app AS (SELECT ${COLUMNS} FROM reengagement_opportunities WHERE organization_id = $1 AND ($2::uuid[] IS NULL OR patient_id = ANY($2))),
            old AS (SELECT ${COLUMNS} FROM old_opportunities)
       (SELECT 'sql only' AS side, * FROM (SELECT * FROM app EXCEPT ALL SELECT * FROM old) a)
       UNION ALL
       (SELECT 'node only' AS side, * FROM (SELECT * FROM old EXCEPT ALL SELECT * FROM app) b)
       ORDER BY patient_id, side LIMIT 20`,
      [organizationId, patientIds],
    );

  const refreshRow = async (): Promise<{ ltv_threshold_cents: number; totals: OpportunityTotal[] }> =>
    (await db.query<{ ltv_threshold_cents: number; totals: OpportunityTotal[] }>(`SELECT ltv_threshold_cents, totals FROM opportunity_refreshes WHERE organization_id = $1`, [organizationId]))[0];

  /** Patients picked by a stable order (`md5` of the id), `n` of them after `skip`. */
  const pick = async (n: number, skip: number, where = 'true'): Promise<string[]> =>
    (
      await db.query<{ patient_id: string }>(
        `SELECT m.patient_id FROM patient_metrics m WHERE m.organization_id = $1 AND ${where} ORDER BY md5(m.patient_id::text) OFFSET $2 LIMIT $3`,
        [organizationId, skip, n],
      )
    ).map((r) => r.patient_id);

  beforeAll(async () => {
    db = await createTestDatabase();
    ({ organizationId } = await seedOrganization(db.url, {
      slug: 'opps-sql',
      name: 'Opps SQL',
      kind: 'physiotherapy',
      patients: 1200,
      seed: 42,
      now: new Date(TEST_NOW.getTime() - 3 * 86_400_000),
      cipher: keyring.master,
      chunkSize: 400,
    }));
    await db.query(`CREATE TABLE old_opportunities (LIKE reengagement_opportunities INCLUDING DEFAULTS)`);
    owner = { organizationId, query: async <T>(sql: string, params?: readonly unknown[]) => (await db.query(sql, params as unknown[])) as T[] };
    database = new Database({ url: db.url, poolSize: 2, applicationName: 'opportunities-sql-test' });
    refresher = new OpportunitiesRefresher(database.tenants, repository, clock);

    // Edges the generated clinic may not have: probabilities out of [0, 1] or not a number, microseconds in the
    // instants (a JS Date keeps milliseconds), plans with and without an end, grants on one channel only.
    const ids = await pick(60, 0, `(m.next_appointment_at IS NULL OR m.next_appointment_at <= '${TEST_NOW.toISOString()}')`);
    const set = (sql: string, some: string[]): Promise<unknown> => db.query(sql, [some]);
    await set(`UPDATE patient_metrics SET success_probability = 'NaN' WHERE patient_id = ANY($1)`, ids.slice(0, 3));
    await set(`UPDATE patient_metrics SET success_probability = 1.5 WHERE patient_id = ANY($1)`, ids.slice(3, 5));
    await set(`UPDATE patient_metrics SET success_probability = -0.25, status = 'dormant' WHERE patient_id = ANY($1)`, ids.slice(5, 7));
    await set(`UPDATE patient_metrics SET success_probability = 0.1, status = 'at_risk', last_contact_at = '2026-10-01 10:00:00.123456+00' WHERE patient_id = ANY($1)`, ids.slice(7, 12));
    await set(
      `UPDATE appointments SET starts_at = starts_at + interval '0.000789 seconds' WHERE patient_id = ANY($1) AND status = 'completed'`,
      ids.slice(12, 20),
    );
    await set(`UPDATE patients SET consent_grants = '{marketing:sms}', preferred_channel = 'email' WHERE id = ANY($1)`, ids.slice(20, 26));
    await set(`UPDATE patients SET consent_grants = '{appointment_reminders:whatsapp,marketing:phone}', preferred_channel = 'phone' WHERE id = ANY($1)`, ids.slice(26, 32));
    await set(`UPDATE patients SET consent_grants = '{}', preferred_channel = 'sms' WHERE id = ANY($1)`, ids.slice(32, 36));
    await set(`UPDATE patient_metrics SET risk_level = 'high', status = 'at_risk', ltv_cents = ltv_cents + 10000000 WHERE patient_id = ANY($1)`, ids.slice(36, 44));
    // An active plan (ended or open-ended) for some, one with no sessions planned left for the value's minimum.
    for (const [i, id] of ids.slice(44, 56).entries()) {
      await db.query(
        `INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
         VALUES ($1, 'test', $7, $2, 'Knee', $3, 1, $4, 'active', $5::timestamptz - interval '100 days' + interval '0.000123 seconds', $6)`,
        [organizationId, id, 3 + (i % 5), i % 3 === 0 ? 0 : 9000 + i, TEST_NOW, i % 2 === 0 ? null : new Date(TEST_NOW.getTime() - (i + 1) * 86_400_000), `opps-sql-plan-${i}`],
      );
    }
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  it('writes the rows and totals the Node classification wrote, every column equal', async () => {
    const result = await refresher.refresh(organizationId);
    const old = await oldPath();
    expect(old.rows).toBeGreaterThan(200);
    expect(result.opportunities).toBe(old.rows);
    expect(await difference()).toEqual([]);
    const state = await refreshRow();
    expect(state.ltv_threshold_cents).toBe(old.threshold);
    expect(state.totals).toEqual(old.totals);
    // The comparison covers every type, outreach and channel rule.
    const kinds = await db.query<{ k: string }>(
      `SELECT DISTINCT opportunity_type || '/' || priority AS k FROM reengagement_opportunities WHERE organization_id = $1
       UNION SELECT DISTINCT 'outreach ' || outreach FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY 1`,
      [organizationId],
    );
    expect(kinds.map((r) => r.k)).toEqual(
      expect.arrayContaining([
        'high_value_risk/high',
        'inactive_patient/low',
        'inactive_patient/medium',
        'outreach next_contact',
        'outreach offer',
        'outreach reminder',
        'overdue_appointment/high',
        'overdue_appointment/medium',
      ]),
    );
  });

  it("runs a small organization's nightly rebuild (its rows read once per table, prepared statements) to the same rows and totals", async () => {
    // The handler as JobService.runTogether runs it: in a transaction of the organization with the rebuild settings.
    const handlers: JobHandler[] = [];
    new OpportunitiesRefresher(database.tenants, repository, clock, undefined, { register: (h: JobHandler) => handlers.push(h) } as unknown as JobService).onModuleInit();
    const inTransaction = handlers.find((h) => h.type === JobType.OpportunitiesRefresh)?.runInTransaction;
    if (!inTransaction) throw new Error('no runInTransaction');
    const old = await oldPath();
    // A row of a patient who is no opportunity now, which the rebuild must remove.
    const [stray] = await db.query<{ id: string }>(
      `SELECT p.id FROM patients p WHERE p.organization_id = $1 AND p.id NOT IN (SELECT patient_id FROM old_opportunities) ORDER BY p.id LIMIT 1`,
      [organizationId],
    );
    await db.query(
      `INSERT INTO reengagement_opportunities (${COLUMNS}) SELECT $1::uuid, $2::uuid, opportunity_type, priority, outreach, channel, patient_status,
              estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at
         FROM old_opportunities LIMIT 1`,
      [organizationId, stray.id],
    );
    await db.query(`UPDATE reengagement_opportunities SET estimated_value_cents = estimated_value_cents + 1 WHERE patient_id = (SELECT min(patient_id::text)::uuid FROM old_opportunities)`);
    // The first run with the plans PostgreSQL makes for these values, the second with the generic plan that a
    // prepared statement settles on after five runs (the same rows either way).
    for (const local of [[...REBUILD_SETTINGS], [...REBUILD_SETTINGS, 'plan_cache_mode = force_generic_plan']]) {
      // The refresh's row is written by the rebuild's own statement (CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL): spoiled
      // first, it must come back as saveRefresh writes it (the totals in the same order, as the same JSON).
      await db.query(
        `UPDATE opportunity_refreshes SET refreshed_at = '2000-01-01', ltv_threshold_cents = -1, totals = '[{"x": 1}]', duration_ms = -1 WHERE organization_id = $1`,
        [organizationId],
      );
      const result = await database.tenants.transaction(organizationId, (tx) => inTransaction(tx, { organizationId, payload: {} }), { batch: true, local });
      expect(result.opportunities).toBe(old.rows);
      expect(result.ltvThresholdCents).toBe(old.threshold);
      expect(await difference()).toEqual([]);
      const state = await refreshRow();
      expect(state.ltv_threshold_cents).toBe(old.threshold);
      expect(state.totals).toEqual(old.totals);
      const [row] = await db.query<{ refreshed_at: Date; duration_ms: number; totals_text: string }>(
        `SELECT refreshed_at, duration_ms, totals::text AS totals_text FROM opportunity_refreshes WHERE organization_id = $1`,
        [organizationId],
      );
      expect(row.refreshed_at).toEqual(TEST_NOW);
      expect(row.duration_ms).toBeGreaterThanOrEqual(0);
      // The stored JSON itself, as JSON.stringify of the totals would store it (jsonb of the same array).
      const [{ same }] = await db.query<{ same: boolean }>(`SELECT $1::jsonb = $2::jsonb AS same`, [row.totals_text, JSON.stringify(old.totals)]);
      expect(same).toBe(true);
    }
  });

  it('agrees with the Node classification with a recall interval of the organization (a fraction of a day)', async () => {
    await db.query(`UPDATE organizations SET settings = settings || '{"recall_interval_days": "45.5"}' WHERE id = $1`, [organizationId]);
    try {
      await refresher.refresh(organizationId);
      const old = await oldPath();
      expect(await difference()).toEqual([]);
      expect((await refreshRow()).totals).toEqual(old.totals);
    } finally {
      await db.query(`UPDATE organizations SET settings = settings - 'recall_interval_days' WHERE id = $1`, [organizationId]);
    }
  });

  it('patches changed patients to the rows a refresh gives them, and the totals to the refresh totals', async () => {
    await refresher.refresh(organizationId);
    // Changes that move no LTV (the patch keeps the last rebuild's threshold): consent, status, visits, bookings.
    const changed = await pick(80, 100);
    await db.query(`UPDATE patients SET consent_grants = '{appointment_reminders:sms}', preferred_channel = 'email' WHERE id = ANY($1)`, [changed.slice(0, 20)]);
    await db.query(`UPDATE patient_metrics SET status = 'dormant', risk_level = 'high' WHERE patient_id = ANY($1)`, [changed.slice(20, 40)]);
    await db.query(`UPDATE patient_metrics SET next_appointment_at = $2 WHERE patient_id = ANY($1)`, [changed.slice(40, 50), new Date(TEST_NOW.getTime() + 86_400_000)]);
    await db.query(`UPDATE patient_metrics SET next_appointment_at = NULL, status = 'at_risk' WHERE patient_id = ANY($1)`, [changed.slice(50, 60)]);
    await db.query(
      `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
       SELECT $1, 'test', 'opps-sql-' || id, id, $3::timestamptz - interval '400 days', 'Follow-up', 'completed', 7000 FROM unnest($2::uuid[]) AS id`,
      [organizationId, changed.slice(60, 80), TEST_NOW],
    );
    const found = await refresher.refreshPatients(organizationId, changed);
    const before = await refreshRow();

    const old = await oldPath(changed, before.ltv_threshold_cents);
    expect(found).toBe(old.rows);
    expect(await difference(changed)).toEqual([]);

    const patched = await db.query(`SELECT ${COLUMNS} FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [organizationId]);
    await refresher.refresh(organizationId);
    const refreshed = await refreshRow();
    expect(refreshed.ltv_threshold_cents).toBe(before.ltv_threshold_cents);
    expect(await db.query(`SELECT ${COLUMNS} FROM reengagement_opportunities WHERE organization_id = $1 ORDER BY patient_id`, [organizationId])).toEqual(patched);
    const byKey = (totals: OpportunityTotal[]): OpportunityTotal[] => [...totals].sort((a, b) => `${a.type}:${a.priority}`.localeCompare(`${b.type}:${b.priority}`));
    expect(byKey(before.totals)).toEqual(byKey(refreshed.totals));
  });

  it('writes only the rows that differ: the others keep their row version, computed_at and updated_at', async () => {
    await refresher.refresh(organizationId);
    const versions = async (): Promise<Map<string, { xmin: string; computed_at: string; updated_at: string }>> =>
      new Map(
        (
          await db.query<{ patient_id: string; xmin: string; computed_at: string; updated_at: string }>(
            `SELECT patient_id, xmin::text AS xmin, computed_at::text AS computed_at, updated_at::text AS updated_at
               FROM reengagement_opportunities WHERE organization_id = $1`,
            [organizationId],
          )
        ).map(({ patient_id, ...v }) => [patient_id, v]),
      );
    // Rebuilt over itself: nothing written.
    const first = await versions();
    const again = await refresher.refresh(organizationId);
    expect(again.opportunities).toBe(first.size);
    expect(await versions()).toEqual(first);

    // One row changed behind the refresh's back, one removed, one of a patient who is no opportunity added.
    const [changed, removed] = [...first.keys()].sort();
    await db.query(`UPDATE reengagement_opportunities SET estimated_value_cents = estimated_value_cents + 1, channel = 'phone' WHERE patient_id = $1`, [changed]);
    await db.query(`DELETE FROM reengagement_opportunities WHERE patient_id = $1`, [removed]);
    const [stray] = await db.query<{ id: string }>(
      `SELECT p.id FROM patients p WHERE p.organization_id = $1 AND NOT EXISTS (SELECT 1 FROM reengagement_opportunities o WHERE o.patient_id = p.id)
        ORDER BY p.id LIMIT 1 OFFSET 1`,
      [organizationId],
    );
    await db.query(
      `INSERT INTO reengagement_opportunities (${COLUMNS}) SELECT organization_id, $2::uuid, opportunity_type, priority, outreach, channel, patient_status,
              estimated_value_cents, success_probability, expected_return_cents, last_contact_at, expected_visit_at, computed_at
         FROM reengagement_opportunities WHERE patient_id = $1`,
      [changed, stray.id],
    );
    const touched = await versions();
    const result = await refresher.refresh(organizationId);
    const after = await versions();
    expect(result.opportunities).toBe(first.size);
    expect([...after.keys()].sort()).toEqual([...first.keys()].sort());
    const rewritten = [...after].filter(([id, v]) => touched.get(id)?.xmin !== v.xmin).map(([id]) => id);
    expect(rewritten.sort()).toEqual([changed, removed].sort());
    for (const id of [changed, removed]) {
      expect(after.get(id)?.computed_at).toBe(first.get(id)?.computed_at);
      expect(new Date(after.get(id)?.updated_at ?? 0).getTime()).toBeGreaterThan(new Date(first.get(id)?.updated_at ?? 0).getTime());
    }
    // The rows are the Node classification's, and the totals.
    const old = await oldPath();
    expect(await difference()).toEqual([]);
    expect((await refreshRow()).totals).toEqual(old.totals);
  });
});
