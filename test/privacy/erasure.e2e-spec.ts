import { Client } from 'pg';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { Role } from 'src/organizations/organizations.enums';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ErasureRepository } from 'src/privacy/erasure/erasure.repository';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { seedFullPatient } from 'test/privacy/export-fixtures';
import { bulkFile, Json, resources } from 'test/fhir-import/fhir-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

type Seeded = Awaited<ReturnType<typeof seedFullPatient>>;

/** Every table of the schema with a `patient_id` column (partitions included), from the catalog, as the superuser sees it. */
async function rowsOfPatient(t: TestApp, patientId: string): Promise<Record<string, number>> {
  const tables = await t.db.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'patient_id' AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { table } of tables) {
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE patient_id = $1`, [patientId]);
    out[table] = n;
  }
  return out;
}

describe('POST /patients/{organizationId}/profile/{patientId}/erasure', () => {
  let t: TestApp;
  let org: string;
  let owner: string;
  let erased: Seeded;
  let other: Seeded;
  let key: { source: string; external_id: string };
  let first: Awaited<ReturnType<TestApp['inject']>>;
  let receipt: {
    erasure_id: string;
    patient_id: string;
    erased_at: string;
    records_deleted: Record<string, number>;
    records_unlinked: Record<string, number>;
  };
  let rowsBefore: Record<string, number>;
  let totalsBefore: { list: number; risk: number };
  const url = (patientId: string): string => `/api/v1/patients/${org}/profile/${patientId}/erasure`;
  const erase = (patientId: string, payload: unknown = { reason: 'Asked by letter of 2026-11-20', basis: 'patient_request' }) =>
    t.inject({ method: 'POST', url: url(patientId), headers: bearer(owner), payload: payload as Record<string, unknown> });
  const totals = async (): Promise<{ list: number; risk: number }> => {
    const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profiles?limit=1`, headers: bearer(owner) });
    const risk = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/risk-summary`, headers: bearer(owner) });
    expect([list.statusCode, risk.statusCode]).toEqual([200, 200]);
    return { list: list.json<{ total_count: number }>().total_count, risk: risk.json<{ total_patients: number }>().total_patients };
  };
  const gaps = (): Promise<unknown[]> =>
    t.db.query(
      `SELECT day::text, prev::text, patients, scored, round(score_sum::numeric, 6)::text AS s FROM engagement_visit_gaps WHERE organization_id = $1 ORDER BY 1, 2`,
      [org],
    );
  const opportunityTotals = async (): Promise<unknown> =>
    (await t.db.query<{ totals: unknown }>(`SELECT totals FROM opportunity_refreshes WHERE organization_id = $1`, [org]))[0]?.totals;

  beforeAll(async () => {
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    owner = await memberToken(t, org, Role.Owner);
    erased = await seedFullPatient(t, org, 2, 'Jane Erasable');
    other = await seedFullPatient(t, org, 1);
    [key] = await t.db.query(`SELECT source, external_id FROM patients WHERE id = $1`, [erased.patientId]);
    // Another patient the erased one referred (their referral goes, the referred patient stays, unlinked).
    await t.db.query(`UPDATE patients SET referred_by_id = $2 WHERE id = $1`, [other.referrerId, erased.patientId]);
    await t.db.query(
      `INSERT INTO referrals (organization_id, source, external_id, referrer_patient_id, referred_patient_id, referred_at)
       VALUES ($1, 'test', 'ref-by-erased', $2, $3, '2025-06-01T00:00:00Z')`,
      [org, erased.patientId, other.referrerId],
    );
    await t.db.query(
      `INSERT INTO fhir_resources (organization_id, source, resource_type, resource_id, patient_ref, list, item_enc, updated_at)
       VALUES ($1, $2, 'Condition', 'c-1', $3, 'conditions', 'x', now())`,
      [org, key.source, key.external_id],
    );
    // A table added later (as another feature would, e.g. per-patient keys): covered because it has a patient_id column.
    await t.db.query(`CREATE TABLE erasure_probe (organization_id uuid NOT NULL, patient_id uuid NOT NULL, secret text)`);
    await t.db.query(`GRANT SELECT, INSERT, DELETE ON erasure_probe TO patient_journey_app`);
    await t.db.query(`INSERT INTO erasure_probe VALUES ($1, $2, 'a key'), ($1, $2, 'another'), ($1, $3, 'not theirs')`, [
      org,
      erased.patientId,
      other.patientId,
    ]);
    // The rollup and the opportunities' totals exist, so that the erasure has to correct them.
    await t.app.get(EngagementRollupService).rebuild(org);
    await t.app.get(OpportunitiesRefresher).refresh(org);
    rowsBefore = await rowsOfPatient(t, erased.patientId);
    totalsBefore = await totals(); // the counts are cached now: the erasure must make them forget
    first = await erase(erased.patientId);
    receipt = first.json();
  }, 120_000);
  afterAll(() => t.close());

  it('answers the receipt: what went per kind, and what of others was kept without the patient', () => {
    expect(first.statusCode).toBe(200);
    expect(receipt).toMatchObject({ patient_id: erased.patientId, basis: 'patient_request', erased_at: '2026-11-24T12:00:00.000Z' });
    expect(receipt.records_deleted).toMatchObject({
      patients: 1,
      appointments: erased.counts.appointments,
      payments: erased.counts.charges + erased.counts.payments,
      communications: erased.counts.communications,
      survey_responses: erased.counts.surveys,
      treatment_plans: erased.counts.plans,
      journey_events: erased.counts.journeyEvents,
      automation_enrollments: erased.counts.enrollments,
      risk_score_history: erased.counts.riskHistory,
      patient_metrics: 1,
      consent_decisions: 2,
      referrals: 1,
      fhir_resources: 1,
      reengagement_opportunities: 1,
      erasure_probe: 2,
    });
    expect(receipt.records_unlinked).toEqual({ patients_referred_by: 1, referrals: 1 });
  });

  it("leaves no row of the patient in any table with a patient_id column (the catalog's list), and others' referral without them", async () => {
    expect(Object.values(rowsBefore).some((n) => n > 0)).toBe(true);
    const left = await rowsOfPatient(t, erased.patientId);
    expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([]);
    expect(Object.keys(left)).toEqual(
      expect.arrayContaining(['appointments', 'patient_metrics', 'engagement_patient_days', 'consent_decisions']),
    );
    const [rest] = await t.db.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM patients WHERE id = $1)::int AS patients,
              (SELECT count(*) FROM referrals WHERE referrer_patient_id = $1 OR referred_patient_id = $1)::int AS referrals,
              (SELECT count(*) FROM fhir_resources WHERE organization_id = $2 AND patient_ref = $3)::int AS fhir,
              (SELECT count(*) FROM referrals WHERE organization_id = $2 AND referrer_patient_id = $4 AND referred_patient_id IS NULL)::int AS kept,
              (SELECT count(*) FROM patients WHERE id = $5 AND referred_by_id IS NULL)::int AS unlinked`,
      [erased.patientId, org, key.external_id, erased.referrerId, other.referrerId],
    );
    expect(rest).toEqual({ patients: 0, referrals: 0, fhir: 0, kept: 1, unlinked: 1 });
    expect(await t.db.query(`SELECT secret FROM erasure_probe`)).toEqual([{ secret: 'not theirs' }]);
  });

  it("drops the patient from the list's total and the risk summary at once (cached before), and from the rollup and opportunity totals", async () => {
    expect(await totals()).toEqual({ list: totalsBefore.list - 1, risk: totalsBefore.risk - 1 });
    const [afterGaps, afterTotals] = [await gaps(), await opportunityTotals()];
    expect(afterTotals).toBeDefined();
    await t.app.get(EngagementRollupService).settled(org);
    await t.app.get(EngagementRollupService).rebuild(org);
    await t.app.get(OpportunitiesRefresher).refresh(org);
    expect(afterGaps).toEqual(await gaps());
    expect(afterTotals).toEqual(await opportunityTotals());
  });

  it('audits the erasure with the patient id and no PHI, and the chain still verifies', async () => {
    const [event] = await t.db.query<Record<string, unknown>>(
      `SELECT action, resource, patient_ids::text[] AS patient_ids, outcome, status_code FROM audit_events
        WHERE organization_id = $1 AND resource = 'patient_erasure' AND patient_ids @> ARRAY[$2]::uuid[] ORDER BY seq LIMIT 1`,
      [org, erased.patientId],
    );
    expect(event).toEqual({
      action: 'delete',
      resource: 'patient_erasure',
      patient_ids: [erased.patientId],
      outcome: 'success',
      status_code: 200,
    });
    const all = JSON.stringify(await t.db.query(`SELECT * FROM audit_events WHERE organization_id = $1`, [org]));
    expect(all).not.toContain('Jane Erasable');
    expect(all).not.toContain('Asked by letter');
    const receipts = JSON.stringify(await t.db.query(`SELECT * FROM erasure_receipts WHERE organization_id = $1`, [org]));
    expect(receipts).not.toContain('Asked by letter');
    const verify = await t.inject({ method: 'GET', url: `/api/v1/audit/${org}/verify`, headers: bearer(owner) });
    expect(verify.json()).toMatchObject({ valid: true, first_broken: null });
  });

  it('answers the first receipt when asked to erase the same patient again', async () => {
    const again = await erase(erased.patientId, { reason: 'again', basis: 'other' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(receipt);
  });

  it('rejects a re-sent source record of the erased patient as erased (ingestion), and records naming them', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(owner),
      payload: {
        records: [
          { record_type: 'patient', source: key.source, external_id: key.external_id, name: 'Jane Erasable' },
          {
            record_type: 'appointment',
            source: key.source,
            external_id: 'appt-after-erasure',
            patient_external_id: key.external_id,
            starts_at: '2026-01-05T09:00:00Z',
            type: 'check-up',
            status: 'completed',
          },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      results: { status: string; reason?: string; errors?: { field: string }[] }[];
      summary: { rejected: number };
    }>();
    expect(body.results.map((r) => [r.status, r.reason, r.errors?.map((e) => e.field)])).toEqual([
      ['rejected', 'erased', ['external_id']],
      ['rejected', 'erased', ['patient_external_id']],
    ]);
    const [{ n }] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND external_id = $2`,
      [org, key.external_id],
    );
    expect(n).toBe(0);
    // Nothing readable in the tombstone.
    const tomb = JSON.stringify(
      await t.db.query(`SELECT encode(key_hash, 'hex') AS h FROM erasure_tombstones WHERE organization_id = $1`, [org]),
    );
    expect(tomb).not.toContain(key.external_id);
  });

  it('rejects a FHIR import (batch and transaction) of an erased patient with issue code deleted', async () => {
    const patient = resources(bulkFile('Patient'))[0];
    const condition = resources(bulkFile('Condition')).find((c) => c.subject?.reference === `Patient/${patient.id as string}`) as Json;
    const bundle = (type: 'batch' | 'transaction'): Json => ({
      resourceType: 'Bundle',
      type,
      entry: [
        {
          fullUrl: `urn:uuid:${patient.id as string}`,
          resource: patient,
          request: { method: 'PUT', url: `Patient/${patient.id as string}` },
        },
        { resource: { ...condition, encounter: undefined }, request: { method: 'PUT', url: `Condition/${condition.id as string}` } },
      ],
    });
    const post = (b: Json) =>
      t.inject({
        method: 'POST',
        url: `/api/v1/fhir/${org}`,
        headers: { ...bearer(owner), 'content-type': 'application/fhir+json' },
        payload: JSON.stringify(b),
      });
    const first = await post(bundle('batch'));
    expect(first.statusCode).toBe(200);
    expect(first.json<Json>().entry.map((e: Json) => e.response.status)).toEqual(['201 Created', '201 Created']);
    const [imported] = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 AND external_id = $2`, [
      org,
      patient.id,
    ]);
    expect((await erase(imported.id)).statusCode).toBe(200);

    const batch = await post(bundle('batch'));
    expect(batch.statusCode).toBe(200);
    const entries = batch.json<Json>().entry.map((e: Json) => e.response);
    expect(entries.map((e: Json) => [e.status, e.outcome.issue[0].code])).toEqual([
      ['400 Bad Request', 'deleted'],
      ['400 Bad Request', 'deleted'],
    ]);
    const transaction = await post(bundle('transaction'));
    expect(transaction.statusCode).toBe(400);
    expect(JSON.stringify(transaction.json())).toContain('"code":"deleted"');
    const [{ n }] = await t.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM patients WHERE organization_id = $1 AND external_id = $2) + (SELECT count(*) FROM fhir_resources WHERE organization_id = $1 AND patient_ref = $2) AS n`,
      [org, patient.id],
    );
    expect(Number(n)).toBe(0);
  });

  it('answers 404 problem+json for an unknown patient and 400 naming the field for bad bodies, erasing nothing', async () => {
    const unknown = await erase('00000000-0000-4000-8000-000000000001');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.json()).toMatchObject({ status: 404, type: expect.stringMatching(/patient-not-found$/) });
    const bad: [unknown, string][] = [
      [{ basis: 'patient_request' }, 'reason'],
      [{ reason: '', basis: 'patient_request' }, 'reason'],
      [{ reason: 'x', basis: 'because' }, 'basis'],
      [{ reason: 'x' }, 'basis'],
      [{ reason: 'x', basis: 'other', extra: 1 }, 'extra'],
    ];
    for (const [payload, field] of bad) {
      const res = await erase(other.patientId, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    expect((await erase('not-a-uuid')).statusCode).toBe(400);
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE id = $1`, [other.patientId]);
    expect(n).toBe(1);
  });

  it("answers 503 with Retry-After while the organization's scores are recomputed, erasing nothing", async () => {
    const recompute = new Client({ connectionString: t.db.url });
    await recompute.connect();
    try {
      await recompute.query(`SELECT pg_advisory_lock(hashtextextended('recompute:' || $1, 0))`, [org]);
      const res = await erase(other.patientId);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('60');
      expect(res.json()).toMatchObject({ status: 503, type: expect.stringMatching(/service-unavailable$/) });
    } finally {
      await recompute.end();
    }
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patients WHERE id = $1`, [other.patientId]);
    expect(n).toBe(1);
  });

  it("leaves a running build's fresh tables to their swap (opportunities, engagement rollup): not in the erasure's list of tables", async () => {
    const hex = org.replaceAll('-', '');
    const fresh = [`reengagement_opps_${hex}_rebuild`, `engagement_days_${hex}_rebuild`];
    await t.db.query(`CREATE TABLE ${fresh[0]} (LIKE reengagement_opportunities INCLUDING DEFAULTS)`);
    await t.db.query(`CREATE TABLE ${fresh[1]} (LIKE engagement_patient_days INCLUDING DEFAULTS)`);
    try {
      const listed = (await t.app.get(TenantDb).read(org, (db) => t.app.get(ErasureRepository).patientTables(db))).map((r) => r.table);
      expect(listed).toContain('appointments');
      expect(listed.filter((name) => name.endsWith('_rebuild'))).toEqual([]);
      expect(listed).not.toContain('engagement_patient_days');
    } finally {
      await t.db.query(`DROP TABLE ${fresh.join(', ')}`);
    }
  });

  it('needs privacy:manage', async () => {
    const clinician = await memberToken(t, org, Role.Clinician);
    const res = await t.inject({
      method: 'POST',
      url: url(other.patientId),
      headers: bearer(clinician),
      payload: { reason: 'x', basis: 'other' },
    });
    expect(res.statusCode).toBe(403);
  });
});
