import { PhiCipher } from 'src/records/phi/phi-cipher';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { bearer, memberToken } from 'test/auth/auth-fixtures';
import { contractErrors } from 'test/utils/contract';
import { createHandmadeClinic, HandmadeClinic } from 'test/journey/support/handmade-clinic';
import { eventually } from 'test/utils/eventually';
import type { operations, OpportunitiesResponse } from '@patient-journey/sdk';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TEST_NOW, TestApp } from 'test/utils/test-app';

interface Opp {
  patient_id: string;
  patient_name: string;
  opportunity_type: string;
  priority: string;
  last_contact: string | null;
  suggested_action: string;
  estimated_value: number;
  success_probability: number;
}

describe('GET /api/v1/patients/:organizationId/opportunities', () => {
  let t: TestApp;
  let clinic: HandmadeClinic;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    const cipher = t.app.get(PhiCipher);
    clinic = await createHandmadeClinic(t.db, (s) => cipher.encrypt(s) as string);
    token = await memberToken(t, clinic.organizationId, 'marketing');
  });
  afterAll(() => t?.close());

  const get = (query = '', tok = token) =>
    t.inject({ method: 'GET', url: `/api/v1/patients/${clinic.organizationId}/opportunities${query}`, headers: bearer(tok) });

  /** The happy path, through the SDK (`listOpportunities`). */
  const list = async (
    query: operations['listOpportunities']['parameters']['query'] = {},
  ): Promise<{ status: number; body: OpportunitiesResponse }> => {
    const api = await sdkClient(t, token);
    const { data, response } = await api.GET('/api/v1/patients/{organizationId}/opportunities', {
      params: { path: { organizationId: clinic.organizationId }, query },
    });
    return { status: response.status, body: data! };
  };

  it('finds each type once per patient, best expected return first, with totals over all matches', async () => {
    const { status, body } = await list();
    expect(status).toBe(200);
    expect(contractErrors('opportunities.schema.json', body)).toEqual([]);
    expect(body.total_opportunities).toBe(5);
    expect(body.potential_revenue).toBe(2367.5);
    const rows = body.opportunities as Opp[];
    expect(rows.map((o) => [o.patient_name, o.opportunity_type, o.priority, o.estimated_value, o.success_probability])).toEqual([
      // 365/30 visits × 125.00, p 0.4: high value (≥ the 75th percentile, 2,000.00) and high risk; also overdue and at risk
      ['Hana High', 'high_value_risk', 'high', 1520.83, 0.4],
      // 4 sessions left of an active plan × 90.00, p 0.3
      ['Lars Lapsed', 'overdue_appointment', 'high', 360, 0.3],
      // maintenance: recall every 180 days, 365/180 × 100.00, p 0.5
      ['Max Maintenance', 'overdue_appointment', 'medium', 202.78, 0.5],
      ['Dora Dormant', 'inactive_patient', 'medium', 162.22, 0.6],
      ['Ivan Inactive', 'inactive_patient', 'low', 121.67, 0.2],
    ]);
    expect(rows[0]).toMatchObject({ patient_id: clinic.ids.hana, last_contact: '2026-10-01T10:00:00.000Z' });
    expect(rows[4].last_contact).toBeNull();
  });

  it('suggests channel-aware actions within consent', async () => {
    const rows = (await list()).body.opportunities;
    const action = (name: string): string => rows.find((o) => o.patient_name === name)?.suggested_action ?? '';
    // marketing consent, prefers phone: a personal call with an offer
    expect(action('Hana High')).toMatch(/^Call the patient personally .*priority appointment/);
    // reminders allowed, prefers SMS: a recall reminder by SMS
    expect(action('Max Maintenance')).toBe('Send a recall reminder by SMS with a link to book the overdue visit');
    // no reminder consent: no message, raise it at the next contact
    expect(action('Lars Lapsed')).toMatch(/^No consent to appointment reminders: do not message/);
    // marketing consent, prefers email: an offer by email
    expect(action('Dora Dormant')).toMatch(/^Email the patient to offer a check-up/);
    // no marketing consent: no offer
    expect(action('Ivan Inactive')).toMatch(/^No marketing consent: do not send offers/);
  });

  it('leaves out patients with an upcoming appointment, active patients not due, and deleted patients', async () => {
    const names = (await list({ limit: 1000 })).body.opportunities.map((o) => o.patient_name);
    for (const n of ['Una Upcoming', 'Ada Active', 'Tom Timezone', 'Finn First', 'Lena Lead', 'Rita Reactivated', 'Gail Gone'])
      expect(names).not.toContain(n);
  });

  it('filters by type and priority and pages, totals staying over all matches', async () => {
    const overdue = (await list({ type: 'overdue_appointment' })).body;
    expect(overdue.opportunities.map((o) => o.patient_name)).toEqual(['Lars Lapsed', 'Max Maintenance']);
    expect([overdue.total_opportunities, overdue.potential_revenue]).toEqual([2, 562.78]);

    const high = (await list({ priority: 'high' })).body;
    expect(high.opportunities.map((o) => o.patient_name)).toEqual(['Hana High', 'Lars Lapsed']);
    expect(high.total_opportunities).toBe(2);

    const both = (await list({ type: 'inactive_patient', priority: 'low' })).body;
    expect(both.opportunities.map((o) => o.patient_name)).toEqual(['Ivan Inactive']);
    expect([both.total_opportunities, both.potential_revenue]).toEqual([1, 121.67]);

    const page = (await list({ limit: 2, offset: 1 })).body;
    expect(page.opportunities.map((o) => o.patient_name)).toEqual(['Lars Lapsed', 'Max Maintenance']);
    expect(page.total_opportunities).toBe(5);
    expect((await list({ offset: 10 })).body.opportunities).toEqual([]);
  });

  it('follows the scoring engine: recomputed patients at once, the whole organization on a full rebuild', async () => {
    // A clinic of its own: this test changes patients the others expect as they are.
    const clinic = await createHandmadeClinic(t.db, (s) => t.app.get(PhiCipher).encrypt(s) as string);
    const own = await memberToken(t, clinic.organizationId, 'marketing');
    const get = () => t.inject({ method: 'GET', url: `/api/v1/patients/${clinic.organizationId}/opportunities`, headers: bearer(own) });
    expect((await get()).json().total_opportunities).toBe(5);
    // Dora books: the scoring engine recomputes her (upcoming appointment, active) and says so.
    await t.db.query(`UPDATE patient_metrics SET next_appointment_at = '2026-12-05T10:00:00Z', status = 'active' WHERE patient_id = $1`, [
      clinic.ids.dora,
    ]);
    expect((await get()).json().total_opportunities).toBe(5); // the snapshot still answers
    t.app.get(ScoringEvents).recomputed$.next({ organizationId: clinic.organizationId, patientIds: [clinic.ids.dora] });
    // The event's subscriber refreshes Dora in the background: wait for it (no guessed sleep).
    let body = await eventually(
      async () => (await get()).json(),
      (b) => typeof b.total_opportunities === 'number' && b.total_opportunities !== 5,
      { what: "Dora's refresh after the recompute event", intervalMs: 100 },
    );
    expect([body.total_opportunities, body.potential_revenue]).toEqual([4, 2205.28]);
    expect(body.opportunities.map((o: Opp) => o.patient_name)).toEqual(['Hana High', 'Lars Lapsed', 'Max Maintenance', 'Ivan Inactive']);

    // Ivan's success probability changes: a single-patient refresh moves him, totals unchanged.
    await t.db.query(`UPDATE patient_metrics SET success_probability = 0.95 WHERE patient_id = $1`, [clinic.ids.ivan]);
    expect(await t.app.get(OpportunitiesRefresher).refreshPatients(clinic.organizationId, [clinic.ids.ivan])).toBe(1);
    body = (await get()).json();
    expect(body.opportunities.map((o: Opp) => o.patient_name)).toEqual(['Hana High', 'Ivan Inactive', 'Lars Lapsed', 'Max Maintenance']);
    expect(body.total_opportunities).toBe(4);

    const r = await t.app.get(OpportunitiesRefresher).refresh(clinic.organizationId);
    expect(r).toMatchObject({ opportunities: 4, ltvThresholdCents: 200_000 });
    expect((await get()).json()).toEqual(body);
  });

  it("the app's refresher can build and swap (its large organizations' path): the same list from the organization's own partition", async () => {
    const clinic = await createHandmadeClinic(t.db, (s) => t.app.get(PhiCipher).encrypt(s) as string);
    const own = await memberToken(t, clinic.organizationId, 'marketing');
    const get = () => t.inject({ method: 'GET', url: `/api/v1/patients/${clinic.organizationId}/opportunities`, headers: bearer(own) });
    const before = (await get()).json();
    expect(before.total_opportunities).toBe(5);
    const partition = `reengagement_opps_${clinic.organizationId.replaceAll('-', '')}`;
    const ownPartition = async (): Promise<boolean> =>
      (await t.db.query<{ own: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS own`, [partition]))[0].own;
    expect(await ownPartition()).toBe(false);
    // 'swap' falls back to the update path when the refresher has no Database (the owner's connection): the app's has one.
    const r = await t.app.get(OpportunitiesRefresher).refresh(clinic.organizationId, undefined, 'swap');
    expect(r).toMatchObject({ organizationId: clinic.organizationId, opportunities: 5 });
    expect(await ownPartition()).toBe(true);
    expect((await get()).json()).toEqual(before);
  });

  describe('the snapshot is never rebuilt inside a read', () => {
    /** A clinic of its own, its member's token and its list. */
    const ownClinic = async () => {
      const own = await createHandmadeClinic(t.db, (s) => t.app.get(PhiCipher).encrypt(s) as string);
      const tok = await memberToken(t, own.organizationId, 'marketing');
      return {
        clinic: own,
        get: () => t.inject({ method: 'GET', url: `/api/v1/patients/${own.organizationId}/opportunities`, headers: bearer(tok) }),
      };
    };
    const runs = (organizationId: string) =>
      t.db.query<{ status: string; dedup_key: string | null }>(
        // The fixed clock gives every run the same queued_at: the first ended first.
        `SELECT status, dedup_key FROM job_runs WHERE organization_id = $1 AND type = 'opportunities-refresh' ORDER BY finished_at NULLS LAST, status, id`,
        [organizationId],
      );
    // Held from the test's own session, the refresh's advisory lock keeps a refresh job running (blocked) for as long as the test likes.
    const hold = (organizationId: string) =>
      t.db.query(`SELECT pg_advisory_lock(hashtext('opportunities:' || $1::text))`, [organizationId]);
    const release = (organizationId: string) =>
      t.db.query(`SELECT pg_advisory_unlock(hashtext('opportunities:' || $1::text))`, [organizationId]);
    /** 30 hours before the tests' now: 4 hours past SNAPSHOT_MAX_AGE_HOURS (26). */
    const age = (organizationId: string) =>
      t.db.query(`UPDATE opportunity_refreshes SET refreshed_at = $2 WHERE organization_id = $1`, [
        organizationId,
        new Date(TEST_NOW.getTime() - 30 * 3_600_000),
      ]);

    it('serves a snapshot past SNAPSHOT_MAX_AGE_HOURS as it is, marked stale, while its refresh runs as one job', async () => {
      const { clinic, get } = await ownClinic();
      const first = await get();
      expect([first.statusCode, first.json().total_opportunities, first.headers['cache-status']]).toEqual([200, 5, undefined]);
      // The first read of the organization built its snapshot through a job.
      expect(
        await eventually(
          () => runs(clinic.organizationId),
          (r) => r[0]?.status === 'succeeded',
          { what: 'the first build done' },
        ),
      ).toEqual([{ status: 'succeeded', dedup_key: null }]);

      // Dora books (a rebuild would drop her), and the snapshot is 30 hours old; the refresh job will block on its lock.
      await t.db.query(`UPDATE patient_metrics SET next_appointment_at = '2026-12-05T10:00:00Z', status = 'active' WHERE patient_id = $1`, [
        clinic.ids.dora,
      ]);
      await age(clinic.organizationId);
      await hold(clinic.organizationId);
      try {
        const started = Date.now();
        const stale = await get();
        expect(Date.now() - started).toBeLessThan(3_000); // answered while the refresh waits for its lock
        expect(stale.statusCode).toBe(200);
        expect(stale.json().total_opportunities).toBe(5); // the old snapshot, Dora still in it
        expect(stale.headers.age).toBe(String(30 * 3600));
        expect(stale.headers['cache-status']).toBe('patient-journey-api; hit; ttl=-14400; detail=snapshot-stale');
        expect(contractErrors('opportunities.schema.json', stale.json())).toEqual([]);
        // The refresh is a job, running (blocked on the lock the test holds), not the request's work.
        await eventually(
          () => runs(clinic.organizationId),
          (r) => r.length === 2 && r[0].status === 'succeeded' && r[1].status === 'running',
          { what: 'the refresh job running' },
        );
        // More stale reads ask for nothing more: one refresh queued or running at a time.
        for (let i = 0; i < 3; i++) expect((await get()).headers['cache-status']).toContain('snapshot-stale');
        expect(await runs(clinic.organizationId)).toHaveLength(2);
      } finally {
        await release(clinic.organizationId);
      }
      await eventually(
        () => runs(clinic.organizationId),
        (r) => r[1]?.status === 'succeeded',
        { what: 'the refresh job succeeded' },
      );
      const fresh = await get();
      expect([fresh.json().total_opportunities, fresh.headers.age, fresh.headers['cache-status']]).toEqual([4, undefined, undefined]);
    });

    it('enqueues one refresh at a time per organization, however many ask at once', async () => {
      const { clinic, get } = await ownClinic();
      expect((await get()).statusCode).toBe(200);
      const jobs = t.app.get(JobService);
      const ask = () => jobs.enqueue(JobType.OpportunitiesRefresh, clinic.organizationId, {}, { unlessPending: 'unfinished' });
      await hold(clinic.organizationId);
      try {
        // Five at once with none pending: the advisory lock of the enqueue lets exactly one in.
        const asked = await Promise.all([ask(), ask(), ask(), ask(), ask()]);
        expect(asked.filter((r) => r !== null)).toHaveLength(1);
        await eventually(
          () => runs(clinic.organizationId),
          (r) => r.length === 2 && r[0].status === 'succeeded' && r[1].status === 'running',
          { what: 'the refresh job running' },
        );
        // While it runs: nothing more for `unfinished`; a recompute's follow-up (`queued`: skipped only while one waits
        // to start, which will read the new scores) queues one behind it.
        expect(await ask()).toBeNull();
        const behind = await jobs.enqueue(JobType.OpportunitiesRefresh, clinic.organizationId, {}, { unlessPending: 'queued' });
        expect(behind).not.toBeNull();
      } finally {
        await release(clinic.organizationId);
      }
      const done = await eventually(
        () => runs(clinic.organizationId),
        (r) => r.every((x) => x.status === 'succeeded'),
        { what: 'every refresh done' },
      );
      expect(done).toHaveLength(3);
    });

    it('merges the patients asked for while a patch transaction runs into one next transaction (one pool connection per organization)', async () => {
      const { clinic, get } = await ownClinic();
      expect((await get()).statusCode).toBe(200);
      const refresher = t.app.get(OpportunitiesRefresher);
      const lock = jest.spyOn(t.app.get(OpportunitiesRepository), 'lock');
      try {
        await hold(clinic.organizationId);
        let first: Promise<number>;
        let later: Promise<number>[];
        try {
          first = refresher.refreshPatients(clinic.organizationId, [clinic.ids.ivan]);
          await eventually(
            () => lock.mock.calls.length,
            (n) => n === 1,
            { what: 'the first patch waiting for the lock' },
          );
          later = [clinic.ids.dora, clinic.ids.hana, clinic.ids.max].map((id) => refresher.refreshPatients(clinic.organizationId, [id]));
        } finally {
          await release(clinic.organizationId);
        }
        const results = await Promise.all([first, ...later]);
        // Ivan alone, then Dora, Hana and Max together: two transactions, not four.
        expect(results).toEqual([1, 3, 3, 3]);
        expect(lock.mock.calls.length).toBe(2);
      } finally {
        lock.mockRestore();
      }
    });

    it("answers 503 not-ready with Retry-After when an organization's first build does not end within the read's bound, then the snapshot", async () => {
      const { clinic, get } = await ownClinic();
      await hold(clinic.organizationId);
      let res;
      try {
        const started = Date.now();
        res = await get();
        // Bounded by DATABASE_STATEMENT_TIMEOUT_MS (5 s by default), not by the build.
        expect(Date.now() - started).toBeLessThan(9_000);
      } finally {
        await release(clinic.organizationId);
      }
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ type: 'https://patient-journey.dev/problems/not-ready', status: 503, title: 'Not ready yet' });
      expect(contractErrors('common.schema.json#/$defs/problem', res.json())).toEqual([]);
      // The build went on as a job: the next read answers.
      const next = await get();
      expect([next.statusCode, next.json().total_opportunities]).toEqual([200, 5]);
      // One build, not one per read (the whole rows, so that a failure says what the second run was).
      expect(
        await eventually(
          () => runs(clinic.organizationId),
          (r) => r[0]?.status === 'succeeded',
          { what: 'the first build done' },
        ),
      ).toEqual([{ status: 'succeeded', dedup_key: null }]);
    });
  });

  it('refuses bad input with 400 problems naming the field', async () => {
    for (const [query, field] of [
      ['?type=lost_patient', 'type'],
      ['?priority=urgent', 'priority'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?offset=-1', 'offset'],
      ['?limit=ten', 'limit'],
    ]) {
      const res = await get(query);
      expect(res.statusCode).toBe(400);
      expect(contractErrors('common.schema.json#/$defs/problem', res.json())).toEqual([]);
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('needs opportunities:read', async () => {
    const clinician = await memberToken(t, clinic.organizationId, 'clinician');
    expect((await get('', clinician)).statusCode).toBe(403);
  });
});
