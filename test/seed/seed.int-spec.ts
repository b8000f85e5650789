import { loadSettings } from 'src/config/settings';
import { CLINIC_CATALOGS, CLINIC_KINDS, ClinicKind, planNamePattern, visitTypes } from 'src/demo-data/clinic-kinds';
import { Client } from 'pg';
import { seedClinicBatch } from 'src/demo-data/many-clinics';
import { buildPools } from 'src/demo-data/seed-catalog';
import { DEMO, seedDemo, seedOrganization } from 'src/demo-data/seed';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import type { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';
import { patientColumns } from 'test/utils/phi';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TEST_NOW, TestApp } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import { demoCoverage, journeysOf, tally } from 'test/seed/demo-coverage';

const keyring = createPhiKeyring(loadSettings({ NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR ?? '.data/test' }));
const cipher = keyring.master;

/** Everything about an organization's generated data except ids, ciphertext randomness and load times. */
async function snapshot(db: TestDatabase, organizationId: string): Promise<Record<string, unknown[]>> {
  const q = (sql: string): Promise<Record<string, unknown>[]> => db.query(sql, [organizationId]);
  const patients = await q(`SELECT p.id, p.external_id, p.name, p.phone_enc, p.email_enc, p.date_of_birth_enc, p.address_enc, p.conditions_enc, p.email_bidx,
      p.preferred_channel, p.marketing_consent, p.registered_at, r.external_id AS referred_by
      FROM patients p LEFT JOIN patients r ON r.id = p.referred_by_id WHERE p.organization_id = $1 ORDER BY p.external_id`);
  const phi = await patientColumns(db, keyring, organizationId, patients as (Record<string, unknown> & { id: string })[]);
  return {
    patients: (patients as (Record<string, unknown> & { id: string })[]).map(({ id, ...p }) => ({
      ...p,
      phone_enc: phi.text({ id, ...p }, 'phone_enc'),
      email_enc: phi.text({ id, ...p }, 'email_enc'),
      date_of_birth_enc: phi.text({ id, ...p }, 'date_of_birth_enc'),
      address_enc: phi.text({ id, ...p }, 'address_enc'),
      conditions_enc: phi.text({ id, ...p }, 'conditions_enc'),
    })),
    appointments: await q(`SELECT a.external_id, p.external_id AS patient, a.starts_at, a.type, a.status, a.value_cents, a.notes_enc IS NOT NULL AS has_notes
      FROM appointments a JOIN patients p ON p.id = a.patient_id WHERE a.organization_id = $1 ORDER BY a.external_id`),
    payments: await q(`SELECT x.external_id, p.external_id AS patient, x.occurred_at, x.amount_cents, x.kind, x.status FROM payments x JOIN patients p ON p.id = x.patient_id WHERE x.organization_id = $1 ORDER BY 1`),
    communications: await q(`SELECT x.external_id, x.occurred_at, x.channel, x.kind, x.direction, x.responded_at, x.outcome FROM communications x WHERE x.organization_id = $1 ORDER BY 1`),
    surveys: await q(`SELECT external_id, submitted_at, satisfaction, nps, complaint FROM survey_responses WHERE organization_id = $1 ORDER BY 1`),
    plans: await q(`SELECT external_id, name, planned_sessions, completed_sessions, status, started_at FROM treatment_plans WHERE organization_id = $1 ORDER BY 1`),
    journey: await q(`SELECT external_id, occurred_at, stage, outcome FROM journey_events WHERE organization_id = $1 ORDER BY 1`),
    enrollments: await q(`SELECT external_id, sequence, step, step_index, status, next_action_at FROM automation_enrollments WHERE organization_id = $1 ORDER BY 1`),
    metrics: await q(`SELECT p.external_id, m.status, m.sort_name, m.total_sessions, m.next_appointment_at, m.stale FROM patient_metrics m JOIN patients p ON p.id = m.patient_id WHERE m.organization_id = $1 ORDER BY 1`),
  };
}

describe('seed generator', () => {
  let db: TestDatabase;
  const seed = (slug: string, patients: number, n: number, bulkLoad = false): ReturnType<typeof seedOrganization> =>
    seedOrganization(db.url, { slug, name: slug, patients, seed: n, now: TEST_NOW, cipher, chunkSize: 150, bulkLoad });
  // The tables' indexes; a partition's (patient_metrics has one per organization, so new ones come with new
  // organizations) only as their number per partition: all of the parent's.
  const indexDefinitions = (): Promise<{ def: string }[]> =>
    db.query(`SELECT indexdef AS def FROM pg_indexes i WHERE schemaname = 'public'
                AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = i.tablename AND c.relispartition) ORDER BY indexname`);
  // The constraints (names, definitions, validated or not), partitions' aside as for the indexes.
  const constraintDefinitions = (on: TestDatabase = db): Promise<{ tbl: string; name: string; def: string; valid: boolean }[]> =>
    on.query(`SELECT k.conrelid::regclass::text AS tbl, k.conname AS name, pg_get_constraintdef(k.oid) AS def, k.convalidated AS valid
                FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
               WHERE k.connamespace = 'public'::regnamespace AND NOT c.relispartition ORDER BY 1, 2`);
  const partitionIndexCounts = async (): Promise<number[]> =>
    (
      await db.query<{ n: number }>(
        `SELECT count(x.indexrelid)::int AS n FROM pg_inherits h LEFT JOIN pg_index x ON x.indrelid = h.inhrelid
          WHERE h.inhparent = 'patient_metrics'::regclass GROUP BY h.inhrelid`,
      )
    ).map((r) => r.n);

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('is deterministic: the same arguments give the same clinic, another seed another one', async () => {
    const a = await seed('seed-a', 200, 7);
    const b = await seed('seed-b', 200, 7);
    const c = await seed('seed-c', 200, 8);
    expect(a.rows).toEqual(b.rows);
    expect(a.rows.patients).toBe(200);
    expect(a.rows.patient_metrics).toBe(200);
    expect(a.rows.appointments).toBeGreaterThan(200 * 6);
    const sa = await snapshot(db, a.organizationId);
    expect(await snapshot(db, b.organizationId)).toEqual(sa);
    expect((await snapshot(db, c.organizationId)).patients).not.toEqual(sa.patients);
  });

  it('loads the same clinic in bulk mode, restores every index as it was and counts the new patients', async () => {
    const before = await indexDefinitions();
    const constraintsBefore = await constraintDefinitions();
    const indexes: number[] = [];
    const plain = await seed('seed-plain', 150, 5);
    const bulk = await seedOrganization(db.url, { slug: 'seed-bulk', name: 'b', patients: 150, seed: 5, now: TEST_NOW, cipher, chunkSize: 150, bulkLoad: true, onIndex: (done) => indexes.push(done) });
    expect(bulk.rows).toEqual(plain.rows);
    expect(await snapshot(db, bulk.organizationId)).toEqual(await snapshot(db, plain.organizationId));
    expect(await indexDefinitions()).toEqual(before);
    expect(await constraintDefinitions()).toEqual(constraintsBefore);
    expect(new Set(await partitionIndexCounts())).toEqual(new Set([10]));
    expect(indexes.length).toBeGreaterThan(20);
    expect(indexes[indexes.length - 1]).toBe(indexes.length);
    const counted = await db.query<{ patients: string }>('SELECT sum(patients)::text AS patients FROM patient_metric_counts WHERE organization_id = $1', [bulk.organizationId]);
    expect(counted[0].patients).toBe('150');
    // Analyzed in the same transaction: the planner knows the tables' sizes.
    const [stats] = await db.query<{ reltuples: number; n: string }>(
      `SELECT reltuples, (SELECT count(*) FROM appointments)::text AS n FROM pg_class WHERE oid = 'appointments'::regclass`,
    );
    expect(stats.reltuples).toBe(Number(stats.n));
    // The unique keys are back: a duplicate external id is refused.
    await expect(
      db.query(`INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
        SELECT organization_id, source, external_id, patient_id, starts_at, type, status, value_cents FROM appointments WHERE organization_id = $1 LIMIT 1`, [bulk.organizationId]),
    ).rejects.toThrow(/uq_appointments_source_external_id/);
  });

  it('loads an empty database frozen (COPY FREEZE after TRUNCATE), with every index and constraint as it was, and leaves a non-empty one alone', async () => {
    const empty = await createTestDatabase();
    try {
      await empty.query('CREATE EXTENSION IF NOT EXISTS pg_visibility');
      const indexesOf = (): Promise<{ name: string; def: string }[]> =>
        empty.query(`SELECT indexname AS name, indexdef AS def FROM pg_indexes i WHERE schemaname = 'public'
                      AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = i.tablename AND c.relispartition) ORDER BY 1`);
      const indexesBefore = await indexesOf();
      const constraintsBefore = await constraintDefinitions(empty);
      expect(constraintsBefore.filter((c) => c.def.startsWith('FOREIGN KEY')).length).toBeGreaterThan(20);
      const frozenPages = (table: string): Promise<{ pages: string; frozen: string }[]> =>
        empty.query(`SELECT count(*)::text AS pages, count(*) FILTER (WHERE all_frozen)::text AS frozen FROM pg_visibility_map($1::regclass)`, [table]);
      const first = await seedOrganization(empty.url, { slug: 'seed-frozen', name: 'f', patients: 150, seed: 5, now: TEST_NOW, cipher, chunkSize: 150, bulkLoad: true });
      expect(first.rows.patients).toBe(150);
      expect(await snapshot(empty, first.organizationId)).toEqual(await snapshot(db, (await seed('seed-frozen-plain', 150, 5)).organizationId));
      // Every page of the loaded tables is frozen (written so by COPY FREEZE); no other table lost its rows.
      for (const table of ['patients', 'appointments', 'journey_events', 'patient_keys']) {
        const [v] = await frozenPages(table);
        expect(Number(v.pages)).toBeGreaterThan(0);
        expect(v.frozen).toBe(v.pages);
      }
      expect(await indexesOf()).toEqual(indexesBefore);
      const constraintsAfter = await constraintDefinitions(empty);
      expect(constraintsAfter).toEqual(constraintsBefore);
      expect(constraintsAfter.every((c) => c.valid)).toBe(true);
      // The foreign keys are in force: a row pointing at no patient is refused.
      await expect(
        empty.query(`INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
          SELECT organization_id, source, 'orphan', gen_random_uuid(), starts_at, type, status, value_cents FROM appointments WHERE organization_id = $1 LIMIT 1`, [first.organizationId]),
      ).rejects.toThrow(/fk_appointments_patient_id/);
      // A second clinic: the tables hold the first one's rows, so nothing is truncated (and nothing written frozen).
      const second = await seedOrganization(empty.url, { slug: 'seed-frozen-2', name: 'f2', patients: 100, seed: 6, now: TEST_NOW, cipher, chunkSize: 150, bulkLoad: true });
      const counts = await empty.query<{ organization_id: string; n: string }>(`SELECT organization_id, count(*)::text AS n FROM appointments GROUP BY 1`);
      expect(Object.fromEntries(counts.map((c) => [c.organization_id, c.n]))).toEqual({
        [first.organizationId]: String(first.rows.appointments),
        [second.organizationId]: String(second.rows.appointments),
      });
      expect((await snapshot(empty, first.organizationId)).patients).toHaveLength(150);
    } finally {
      await empty.drop();
    }
  });

  it('stores no PHI in plain text and every patient has a stale metrics row', async () => {
    const { organizationId } = await seed('seed-phi', 100, 3);
    const rows = await db.query<Record<string, string | null>>(`SELECT * FROM patients WHERE organization_id = $1`, [organizationId]);
    expect(rows).toHaveLength(100);
    for (const row of rows) {
      // The plaintext must be in no column but as ciphertext: the ciphertext and blind-index columns are checked for
      // their form, the others for the values. (Searching the ciphertext too could fail by chance: a short condition
      // such as 'GERD' can occur in base64.)
      const encrypted = Object.keys(row).filter((k) => k.endsWith('_enc'));
      const ciphertexts = encrypted.map((k) => row[k]).filter((v) => v !== null);
      expect(ciphertexts.length).toBeGreaterThan(0);
      for (const v of ciphertexts) expect(v).toMatch(/^p1:[A-Za-z0-9+/]+=*$/);
      const raw = JSON.stringify(Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_enc') && !k.endsWith('_bidx'))));
      const phi = await patientColumns(db, keyring, organizationId, [row as Record<string, string | null> & { id: string }]);
      const address = phi.json<{ street: string }>(row as Record<string, string | null> & { id: string }, 'address_enc')!;
      const text = (c: string): string | null => phi.text(row as Record<string, string | null> & { id: string }, c);
      const plain = [text('email_enc'), text('phone_enc'), text('date_of_birth_enc'), address.street];
      for (const condition of phi.json<string[]>(row as Record<string, string | null> & { id: string }, 'conditions_enc') ?? []) plain.push(condition);
      for (const value of plain) expect(raw).not.toContain(value);
      expect(row.email_bidx).toBe(cipher.blindIndex('email', text('email_enc')!));
    }
    const [m] = await db.query<{ n: string; stale: string; names: string }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE m.stale) AS stale, count(*) FILTER (WHERE m.sort_name = lower(p.name)) AS names
         FROM patient_metrics m JOIN patients p ON p.id = m.patient_id WHERE m.organization_id = $1`,
      [organizationId],
    );
    expect(m).toEqual({ n: '100', stale: '100', names: '100' });
  });

  it('generates a believable mix: statuses, no-shows, failed and overdue payments, replies, complaints, plans, enrollments', async () => {
    const { organizationId, rows } = await seed('seed-mix', 400, 11);
    const distinct = async (sql: string): Promise<string[]> => (await db.query<{ v: string }>(sql, [organizationId])).map((r) => String(r.v)).sort();
    expect(await distinct(`SELECT DISTINCT status AS v FROM patient_metrics WHERE organization_id = $1`)).toEqual(['active', 'at_risk', 'dormant']);
    expect(await distinct(`SELECT DISTINCT status AS v FROM appointments WHERE organization_id = $1`)).toEqual(['cancelled', 'completed', 'no_show', 'scheduled']);
    expect(await distinct(`SELECT DISTINCT kind || '/' || status AS v FROM payments WHERE organization_id = $1`)).toEqual(
      expect.arrayContaining(['charge/overdue', 'payment/failed', 'payment/paid', 'refund/refunded']),
    );
    expect(await distinct(`SELECT DISTINCT direction || '/' || (responded_at IS NOT NULL) AS v FROM communications WHERE organization_id = $1`)).toEqual(
      expect.arrayContaining(['inbound/false', 'outbound/false', 'outbound/true']),
    );
    expect(await distinct(`SELECT DISTINCT satisfaction AS v FROM survey_responses WHERE organization_id = $1`)).toEqual(['1', '2', '3', '4', '5']);
    expect(await distinct(`SELECT DISTINCT complaint AS v FROM survey_responses WHERE organization_id = $1`)).toEqual(['false', 'true']);
    expect(await distinct(`SELECT DISTINCT status AS v FROM treatment_plans WHERE organization_id = $1`)).toEqual(['abandoned', 'active', 'completed']);
    expect(rows.referrals).toBeGreaterThan(0);
    expect(rows.automation_enrollments).toBeGreaterThan(0);
    // Upcoming appointments only for active patients; nothing but scheduled ones after now.
    const [bad] = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM appointments a JOIN patient_metrics m ON m.patient_id = a.patient_id
        WHERE a.organization_id = $1 AND ((a.starts_at > $2 AND (a.status <> 'scheduled' OR m.status <> 'active')) OR (a.starts_at <= $2 AND a.status = 'scheduled'))`,
      [organizationId, TEST_NOW],
    );
    expect(bad.n).toBe('0');
  });

  it('writes its consent history with the patients: flags as migration decisions, web-form grants, sorted grants', async () => {
    const a = await seed('seed-consent-a', 300, 3);
    const b = await seed('seed-consent-b', 300, 3);
    const grants = (org: string): Promise<{ external_id: string; consent_grants: string[] }[]> =>
      db.query(`SELECT external_id, consent_grants FROM patients WHERE organization_id = $1 ORDER BY external_id`, [org]);
    // The same patients (by their number in the clinic) get the same grants on every seed.
    expect(await grants(b.organizationId)).toEqual(await grants(a.organizationId));
    const decisions = await db.query<{ source: string; purpose: string; decision: string; origin: string; n: number }>(
      `SELECT source, purpose, decision, origin, count(*)::int AS n FROM consent_decisions WHERE organization_id = $1 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      [a.organizationId],
    );
    const n = (source: string, purpose: string, decision = 'granted'): number =>
      decisions.find((d) => d.source === source && d.purpose === purpose && d.decision === decision)?.n ?? 0;
    // Every patient has a decision for each flag; about 85 % analytics and 40 % research grants by web form.
    expect(n('migration', 'marketing') + n('migration', 'marketing', 'denied')).toBe(300);
    expect(n('migration', 'appointment_reminders') + n('migration', 'appointment_reminders', 'denied')).toBe(300);
    expect(n('seed', 'analytics')).toBeGreaterThan(230);
    expect(n('seed', 'analytics')).toBeLessThan(280);
    expect(n('seed', 'research')).toBeGreaterThan(90);
    expect(n('seed', 'research')).toBeLessThan(150);
    expect(new Set(decisions.filter((d) => d.source === 'seed').map((d) => d.origin))).toEqual(new Set(['web_form']));
    // The grants kept on each patient are what its decisions grant, sorted in byte order, as the consent policy keeps them.
    const [{ bad }] = await db.query<{ bad: number }>(
      `SELECT count(*)::int AS bad FROM patients p
        WHERE p.organization_id = $1 AND p.consent_grants IS DISTINCT FROM ARRAY(
          SELECT g FROM (SELECT (CASE WHEN d.source = 'migration' THEN d.purpose || ':' || c ELSE d.purpose END)::text AS g
                           FROM consent_decisions d
                           LEFT JOIN unnest(ARRAY['phone', 'sms', 'email', 'whatsapp']) c ON d.source = 'migration'
                          WHERE d.organization_id = p.organization_id AND d.patient_id = p.id AND d.decision = 'granted') t
           ORDER BY g COLLATE "C")`,
      [a.organizationId],
    );
    expect(bad).toBe(0);
  });

  it('writes many clinics in one batch exactly as one at a time (same seed, same name pools)', async () => {
    const alone = await seed('seed-alone', 120, 9);
    const client = new Client({ connectionString: db.url, options: '-c timezone=UTC' });
    await client.connect();
    try {
      const batch = await seedClinicBatch(
        client,
        [
          { slug: 'seed-batch-a', name: 'a', seed: 9 },
          { slug: 'seed-batch-b', name: 'b', seed: 10 },
        ],
        { patients: 120, now: TEST_NOW, cipher, pools: buildPools(9) },
      );
      expect(batch.rows.organizations).toBe(2);
      expect(batch.rows.patients).toBe(240);
      expect(await snapshot(db, batch.organizationIds[0])).toEqual(await snapshot(db, alone.organizationId));
      expect((await snapshot(db, batch.organizationIds[1])).patients).not.toEqual((await snapshot(db, alone.organizationId)).patients);
      for (const id of batch.organizationIds) {
        const [counted] = await db.query<{ patients: string }>('SELECT sum(patients)::text AS patients FROM patient_metric_counts WHERE organization_id = $1', [id]);
        expect(counted.patients).toBe('120');
      }
      // Seeded again: replaced, not added to.
      await seedClinicBatch(client, [{ slug: 'seed-batch-a', name: 'a', seed: 9 }], { patients: 50, now: TEST_NOW, cipher, pools: buildPools(9) });
      const [{ n }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM patients p JOIN organizations o ON o.id = p.organization_id WHERE o.slug = 'seed-batch-a'`);
      expect(n).toBe('50');
    } finally {
      await client.end();
    }
  });

  it('generates the same clinic on 0 or 2 generator threads and whatever the COPY chunk, external ids numbered in clinic order', async () => {
    // 2,100 patients: three generation blocks (SEED_BLOCK_PATIENTS), so that ids and external ids cross block boundaries.
    const alone = await seedOrganization(db.url, { slug: 'seed-threads-0', name: 't0', patients: 2100, seed: 12, now: TEST_NOW, cipher, chunkSize: 150, workers: 0 });
    const threads = await seedOrganization(db.url, { slug: 'seed-threads-2', name: 't2', patients: 2100, seed: 12, now: TEST_NOW, cipher, chunkSize: 2000, workers: 2 });
    expect(threads.rows).toEqual(alone.rows);
    expect(alone.rows.appointments).toBeGreaterThan(2100 * 6);
    expect(await snapshot(db, threads.organizationId)).toEqual(await snapshot(db, alone.organizationId));
    // Every sourced table's external ids run from 1 to its row count without a gap, and its ids are in the same order.
    for (const [table, prefix] of [['appointments', 'A'], ['payments', 'PAY'], ['communications', 'C'], ['journey_events', 'J'], ['patients', 'P']] as const) {
      const [r] = await db.query<{ n: number; first: number; last: number; misordered: number }>(
        `SELECT count(*)::int AS n, min(substr(external_id, ${prefix.length + 1})::int) AS first, max(substr(external_id, ${prefix.length + 1})::int) AS last,
                count(*) FILTER (WHERE next_id IS NOT NULL AND next_id < id)::int AS misordered
           FROM (SELECT id, external_id, lead(id) OVER (ORDER BY external_id) AS next_id FROM ${table} WHERE organization_id = $1) t`,
        [threads.organizationId],
      );
      expect(r).toEqual({ n: threads.rows[table], first: 1, last: threads.rows[table], misordered: 0 });
    }
  }, 300_000);

  it('replaces an organization seeded again under the same slug', async () => {
    const first = await seed('seed-again', 100, 1);
    const second = await seed('seed-again', 50, 1);
    expect(second.organizationId).not.toBe(first.organizationId);
    const [{ n }] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM patients p JOIN organizations o ON o.id = p.organization_id WHERE o.slug = 'seed-again'`);
    expect(n).toBe('50');
    const [{ orphans }] = await db.query<{ orphans: string }>(`SELECT count(*) AS orphans FROM appointments WHERE organization_id = $1`, [first.organizationId]);
    expect(orphans).toBe('0');
  });
});

/** What one organization's records name: visit types, plan names, conditions and medications (decrypted). */
async function clinicVocabulary(db: TestDatabase, organizationId: string, keys: PhiKeyringCore) {
  const col = async (sql: string): Promise<string[]> => (await db.query<{ v: string }>(sql, [organizationId])).map((r) => r.v);
  const patients = await db.query<{ id: string; conditions_enc: string | null; medications_enc: string | null }>(
    'SELECT id, conditions_enc, medications_enc FROM patients WHERE organization_id = $1',
    [organizationId],
  );
  const phi = await patientColumns(db, keys, organizationId, patients);
  return {
    types: await col('SELECT DISTINCT type AS v FROM appointments WHERE organization_id = $1 ORDER BY 1'),
    plans: await col('SELECT DISTINCT name AS v FROM treatment_plans WHERE organization_id = $1 ORDER BY 1'),
    conditions: [...new Set(patients.flatMap((p) => phi.json<string[]>(p, 'conditions_enc') ?? []))].sort(),
    medications: [...new Set(patients.flatMap((p) => phi.json<string[]>(p, 'medications_enc') ?? []))].sort(),
  };
}

describe('clinic kinds', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('keep each kind\'s visit types and conditions apart', () => {
    for (const a of CLINIC_KINDS) {
      for (const b of CLINIC_KINDS) {
        if (a === b) continue;
        expect(visitTypes(CLINIC_CATALOGS[a]).filter((t) => visitTypes(CLINIC_CATALOGS[b]).includes(t))).toEqual([]);
        expect(CLINIC_CATALOGS[a].conditions.filter((c) => CLINIC_CATALOGS[b].conditions.includes(c))).toEqual([]);
      }
    }
  });

  it.each(CLINIC_KINDS.map((k) => [k]))('a %s clinic names only its own visit types, plans, conditions and medications, and has every journey stage', async (kind: ClinicKind) => {
    const catalog = CLINIC_CATALOGS[kind];
    const { organizationId } = await seedOrganization(db.url, { slug: `kind-${kind.replace('_', '-')}`, name: kind, kind, patients: 600, seed: 4, now: TEST_NOW, cipher, chunkSize: 200 });
    const v = await clinicVocabulary(db, organizationId, keyring);
    // Every type of the kind appears in 600 patients, and nothing else.
    expect(v.types).toEqual([...visitTypes(catalog)].sort());
    for (const plan of v.plans) expect(plan).toMatch(planNamePattern(catalog));
    expect(v.plans.length).toBeGreaterThan(0);
    expect(v.conditions.length).toBeGreaterThan(3);
    for (const c of v.conditions) expect(catalog.conditions).toContain(c);
    for (const m of v.medications) expect(catalog.medications).toContain(m);
    const stages = tally((await journeysOf((sql, params) => db.query(sql, params), organizationId, TEST_NOW)).map((j) => j.current_stage));
    expect(Object.keys(stages)).toEqual(['active_care', 'first_visit', 'lapsed', 'maintenance', 'new_lead', 'reactivated']);
  });
});

/** A clinic generated on worker threads, read back through the app: the threads encrypt exactly as the app reads. */
describe('a clinic seeded on generator threads', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('reads back through the profile endpoint: contact, date of birth, address and medical information', async () => {
    const appKeyring = createPhiKeyring(t.settings);
    const { organizationId } = await seedOrganization(t.db.url, { slug: 'threads-api', name: 'Threads', patients: 1200, seed: 21, now: TEST_NOW, cipher: appKeyring.master, workers: 2 });
    const token = await memberToken(t, organizationId, 'admin');
    // Patients of both blocks: the first, and the second thread's last.
    const rows = await t.db.query<Record<string, string | null> & { id: string }>(
      `SELECT id, external_id, phone_enc, email_enc, date_of_birth_enc, address_enc, conditions_enc, allergies_enc, medications_enc
         FROM patients WHERE organization_id = $1 AND external_id IN ('P000000001', 'P000001200') ORDER BY external_id`,
      [organizationId],
    );
    expect(rows.map((r) => r.external_id)).toEqual(['P000000001', 'P000001200']);
    const phi = await patientColumns(t.db, appKeyring, organizationId, rows);
    for (const row of rows) {
      const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${organizationId}/profile/${row.id}`, headers: bearer(token) });
      expect(res.statusCode).toBe(200);
      const patient = res.json().patient;
      expect(patient.phone).toMatch(/^\+1\d{10}$/);
      expect(patient.email).toMatch(/@/);
      expect(patient.date_of_birth).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(patient.address.street).toMatch(/^\d+ /);
      expect(patient).toMatchObject({
        phone: phi.text(row, 'phone_enc'),
        email: phi.text(row, 'email_enc'),
        date_of_birth: phi.text(row, 'date_of_birth_enc'),
        address: phi.json(row, 'address_enc'),
        medical_info: {
          conditions: phi.json(row, 'conditions_enc') ?? [],
          allergies: phi.json(row, 'allergies_enc') ?? [],
          medications: phi.json(row, 'medications_enc') ?? [],
        },
      });
    }
  }, 300_000);
});

/**
 * The demo organization as the first start makes it (seedDemo: the dental clinic of 2,000 patients, scored as of
 * the past eight weeks and now), read through the app's own statements, rules and endpoints.
 */
describe('the demo clinic', () => {
  let t: TestApp;
  let organizationId: string;
  let token: string;
  let appKeyring: PhiKeyringCore;

  beforeAll(async () => {
    t = await createTestApp();
    appKeyring = createPhiKeyring(t.settings);
    const { seeded, scored } = await seedDemo(t.db.url, TEST_NOW, appKeyring.master);
    organizationId = seeded.organizationId;
    expect(scored.pastRuns).toBe(8);
    token = await memberToken(t, organizationId, 'admin');
  }, 180_000);
  afterAll(() => t?.close());

  const get = (path: string) => t.inject({ method: 'GET', url: `/api/v1/patients/${organizationId}/${path}`, headers: bearer(token) });

  it('shows improving and declining patients in the risk summary, from a real risk history', async () => {
    const res = await get('risk-summary');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total_patients).toBe(DEMO.patients);
    expect(body.risk_trends.improving).toBeGreaterThan(0);
    expect(body.risk_trends.declining).toBeGreaterThan(0);
    expect(body.risk_trends.stable).toBeGreaterThan(0);
    for (const level of ['low_risk', 'medium_risk', 'high_risk']) expect(body.risk_distribution[level]).toBeGreaterThan(0);
    // A score on each of the past eight weekly runs' days at most, and today's; none before a patient registered.
    const days = await t.db.query<{ d: string }>(
      `SELECT DISTINCT recorded_on::text AS d FROM risk_score_history WHERE organization_id = $1 ORDER BY 1`,
      [organizationId],
    );
    expect(days.map((d) => d.d)).toEqual(
      Array.from({ length: 9 }, (_, i) => new Date(TEST_NOW.getTime() - (8 - i) * 7 * 86_400_000).toISOString().slice(0, 10)),
    );
  });

  it('has every opportunity type and priority, every journey stage and status, consent and bookings both ways', async () => {
    const c = await demoCoverage((sql, params) => t.db.query(sql, params), organizationId, TEST_NOW);
    expect(c.patients).toBe(DEMO.patients);
    expect(Object.keys(c.status)).toEqual(['active', 'at_risk', 'dormant']);
    expect(Object.keys(c.journeyStage)).toEqual(['active_care', 'first_visit', 'lapsed', 'maintenance', 'new_lead', 'reactivated']);
    expect(Object.keys(c.opportunities)).toEqual([
      'high_value_risk/high',
      'inactive_patient/low',
      'inactive_patient/medium',
      'overdue_appointment/high',
      'overdue_appointment/medium',
    ]);
    expect(Object.keys(c.outreach)).toEqual(['next_contact', 'offer', 'reminder']);
    expect(Object.keys(c.marketingConsent)).toEqual(['false', 'true']);
    expect(Object.keys(c.appointmentReminders)).toEqual(['false', 'true']);
    expect(c.upcoming.with).toBeGreaterThan(0);
    expect(c.upcoming.without).toBeGreaterThan(0);
    expect(c.riskTrend).toEqual(c.summaryTrend);
    expect(c.historyBeforeRegistration).toBe(0);
    // The list endpoint agrees with the rules: a page of each type and priority.
    for (const [key, n] of Object.entries(c.opportunities)) {
      const [type, priority] = key.split('/');
      const res = await get(`opportunities?type=${type}&priority=${priority}&limit=1`);
      expect(res.statusCode).toBe(200);
      expect(res.json().total_opportunities).toBe(n);
    }
  }, 120_000);

  it('is a dental clinic through and through', async () => {
    const catalog = CLINIC_CATALOGS[DEMO.kind];
    const v = await clinicVocabulary(t.db, organizationId, appKeyring);
    expect(v.types).toEqual([...visitTypes(catalog)].sort());
    for (const plan of v.plans) expect(plan).toMatch(planNamePattern(catalog));
    for (const c of v.conditions) expect(catalog.conditions).toContain(c);
    for (const m of v.medications) expect(catalog.medications).toContain(m);
  });
});
