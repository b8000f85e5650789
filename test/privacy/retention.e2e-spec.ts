import type { AuditEventContent } from 'src/audit/trail/audit-event';
import { contentHash } from 'src/audit/trail/hash-chain';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { FileStore } from 'src/file-store/file-store.service';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { Role } from 'src/organizations/organizations.enums';
import { RetentionSweep } from 'src/privacy/retention/retention-sweep';
import { profileReadEvent } from 'test/audit/audit-fixtures';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createAppointment, createPatient } from 'test/utils/factories';
import { eventually } from 'test/utils/eventually';
import { createTestApp, TestApp } from 'test/utils/test-app';

describe('retention: the policy, the sweep, audit retirement', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  }, 120_000);
  afterAll(() => t.close());

  const policyUrl = (org: string): string => `/api/v1/organizations/${org}/retention`;

  it('GET answers the defaults, PUT replaces the policy (audited), bad bodies are 400 naming the field and change nothing', async () => {
    const org = (await createOrganization(t.db)).id;
    const owner = await memberToken(t, org, Role.Owner);
    const get = () => t.inject({ method: 'GET', url: policyUrl(org), headers: bearer(owner) });
    expect((await get()).json()).toEqual({ inactive_patient_years: null, audit_years: 6, updated_at: null });
    const put = (payload: unknown) =>
      t.inject({ method: 'PUT', url: policyUrl(org), headers: bearer(owner), payload: payload as Record<string, unknown> });
    const ok = await put({ inactive_patient_years: 7.5, audit_years: 10 });
    expect(ok.statusCode).toBe(200);
    expect((await get()).json()).toEqual({ inactive_patient_years: 7.5, audit_years: 10, updated_at: '2026-11-24T12:00:00.000Z' });
    const bad: [unknown, string][] = [
      [{ inactive_patient_years: null, audit_years: 5 }, 'audit_years'],
      [{ inactive_patient_years: null }, 'audit_years'],
      [{ inactive_patient_years: 'seven', audit_years: 6 }, 'inactive_patient_years'],
      [{ inactive_patient_years: 0, audit_years: 6 }, 'inactive_patient_years'],
      [{ inactive_patient_years: 7, audit_years: 6.123 }, 'audit_years'],
      [{ inactive_patient_years: 7, audit_years: 6, keep: true }, 'keep'],
    ];
    for (const [payload, field] of bad) {
      const res = await put(payload);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    }
    expect((await get()).json()).toMatchObject({ inactive_patient_years: 7.5, audit_years: 10 });
    const events = await t.db.query(
      `SELECT 1 FROM audit_events WHERE organization_id = $1 AND resource = 'retention_policy' AND action = 'update' AND outcome = 'success'`,
      [org],
    );
    expect(events).toHaveLength(1);
    const clinician = await memberToken(t, org, Role.Clinician);
    expect((await t.inject({ method: 'GET', url: policyUrl(org), headers: bearer(clinician) })).statusCode).toBe(403);
  });

  it('the sweep erases patients inactive past the policy, skips held and active ones; the dry run only reports', async () => {
    const org = (await createOrganization(t.db)).id;
    const owner = await memberToken(t, org, Role.Owner);
    await t.inject({ method: 'PUT', url: policyUrl(org), headers: bearer(owner), payload: { inactive_patient_years: 3, audit_years: 6 } });
    const old = async (): Promise<string> => {
      const id = await createPatient(t.db, t.settings, org, { registeredAt: new Date('2018-03-01T00:00:00Z') });
      await createAppointment(t.db, t.settings, org, id, { startsAt: new Date('2019-05-01T09:00:00Z'), status: 'completed' });
      return id;
    };
    const [gone1, gone2, held] = [await old(), await old(), await old()];
    const active = await createPatient(t.db, t.settings, org, { registeredAt: new Date('2018-03-01T00:00:00Z') });
    await createAppointment(t.db, t.settings, org, active, { startsAt: new Date('2025-06-01T09:00:00Z'), status: 'completed' });
    const recent = await createPatient(t.db, t.settings, org, { registeredAt: new Date('2025-01-01T00:00:00Z') });
    const hold = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${org}/legal-holds`,
      headers: bearer(owner),
      payload: { patient_ids: [held], reason: 'case' },
    });
    expect(hold.statusCode).toBe(201);
    const patients = async (): Promise<number> => (await t.db.query(`SELECT 1 FROM patients WHERE organization_id = $1`, [org])).length;

    const sweep = t.app.get(RetentionSweep);
    const dry = await sweep.run(org, { dryRun: true });
    expect(dry.patients).toEqual({
      inactive_before: '2023-11-24T12:00:00.000Z',
      past_policy: 3,
      held: 1,
      erased: 2,
      patient_ids: [gone1, gone2].sort(),
    });
    expect(await patients()).toBe(5);

    const progress: number[] = [];
    const real = await sweep.run(org, { progress: async (f) => void progress.push(f) });
    expect(real.patients).toEqual(dry.patients);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
    expect(await patients()).toBe(3);
    const left = await t.db.query<{ id: string }>(`SELECT id FROM patients WHERE organization_id = $1 ORDER BY id`, [org]);
    expect(left.map((r) => r.id)).toEqual([held, active, recent].sort());
    const receipts = await t.db.query<{ erased_patient_id: string; basis: string }>(
      `SELECT erased_patient_id, basis FROM erasure_receipts WHERE organization_id = $1 ORDER BY erased_patient_id`,
      [org],
    );
    expect(receipts).toEqual([gone1, gone2].sort().map((id) => ({ erased_patient_id: id, basis: 'retention' })));
    const events = await t.db.query<{ route: string; patient_ids: string[] }>(
      `SELECT route, patient_ids::text[] AS patient_ids FROM audit_events WHERE organization_id = $1 AND resource = 'patient_erasure' ORDER BY seq`,
      [org],
    );
    expect(events.map((e) => [e.route, e.patient_ids[0]]).sort()).toEqual([gone1, gone2].sort().map((id) => ['retention-sweep', id]));
    // A second sweep finds nothing more to do.
    expect((await sweep.run(org)).patients).toMatchObject({ past_policy: 1, held: 1, erased: 0 });
    const verify = await t.inject({ method: 'GET', url: `/api/v1/audit/${org}/verify`, headers: bearer(owner) });
    expect(verify.json()).toMatchObject({ valid: true });
  });

  it('retires audit months past audit_years after archiving them to an encrypted file; the chain verifies from the first kept event', async () => {
    const org = (await createOrganization(t.db)).id;
    const owner = await memberToken(t, org, Role.Owner);
    // Five events of 2019-2020 at the start of the chain, then the present.
    const trail = t.app.get(TrailRepository);
    const event = (occurredAt: Date): AuditEventContent => profileReadEvent(org, occurredAt);
    const old = ['2019-11-03', '2019-12-10', '2020-03-15', '2020-10-31', '2020-10-31'].map((d) => event(new Date(`${d}T10:00:00Z`)));
    await t.app.get(TenantDb).transaction(org, async (db) => {
      for (const e of [...old, event(new Date('2020-11-01T00:00:00Z')), event(new Date('2026-11-20T10:00:00Z'))])
        await trail.append(db, e, contentHash(e));
    });
    const sweep = t.app.get(RetentionSweep);
    const dry = await sweep.run(org, { dryRun: true });
    expect(dry.audit).toEqual({
      retire_before: '2020-11-01T00:00:00.000Z',
      events: 5,
      months: [
        '2019-11',
        '2019-12',
        '2020-01',
        '2020-02',
        '2020-03',
        '2020-04',
        '2020-05',
        '2020-06',
        '2020-07',
        '2020-08',
        '2020-09',
        '2020-10',
      ],
      retired: 0,
      archive_file_id: null,
    });
    const count = async (): Promise<number> => (await t.db.query(`SELECT 1 FROM audit_events WHERE organization_id = $1`, [org])).length;
    expect(await count()).toBe(7);

    const real = await sweep.run(org);
    expect(real.audit).toMatchObject({ events: 5, retired: 5, archive_file_id: expect.any(String) });
    // The five are gone; the retirement is itself an event.
    const kept = await t.db.query<{ seq: string; resource: string }>(
      `SELECT seq, resource FROM audit_events WHERE organization_id = $1 ORDER BY seq`,
      [org],
    );
    expect(kept.map((k) => [Number(k.seq), k.resource])).toEqual([
      [6, 'patient'],
      [7, 'patient'],
      [8, 'audit_events'],
    ]);
    const [retirement] = await t.db.query<{ last_seq: string; first_seq: string; events: string }>(
      `SELECT last_seq, first_seq, events FROM audit_retirements WHERE organization_id = $1`,
      [org],
    );
    expect(retirement).toEqual({ last_seq: '5', first_seq: '1', events: '5' });
    const verify = await t.inject({ method: 'GET', url: `/api/v1/audit/${org}/verify`, headers: bearer(owner) });
    expect(verify.json()).toEqual({ valid: true, events_checked: 3, first_broken: null });

    // The archive: the five events, encrypted at rest, with their hashes.
    const store = t.app.get(FileStore);
    const file = (await store.get(org, real.audit.archive_file_id as string))!;
    const lines: { sequence: number; id: string }[] = [];
    for await (const line of store.lines(file)) lines.push(JSON.parse(line) as { sequence: number; id: string });
    expect(lines.map((l) => [l.sequence, l.id])).toEqual(old.map((e, i) => [i + 1, e.id]));
    const chunks = await t.db.query<{ data: Buffer }>(`SELECT data FROM stored_file_chunks WHERE file_id = $1`, [file.id]);
    expect(chunks.map((c) => c.data.toString('latin1')).join('')).not.toContain(old[0].id);

    // Nothing more to retire; the database refuses to retire anything younger than six years, even by hand.
    expect((await sweep.run(org)).audit).toMatchObject({ events: 0, retired: 0 });
    await expect(
      t.app.get(TenantDb).transaction(org, (db) => db.query(`SELECT audit_retire($1, 7, 1, now(), NULL)`, [org])),
    ).rejects.toThrow(/at least 6 years/);
    await expect(t.db.query(`DELETE FROM audit_events WHERE organization_id = $1`, [org])).rejects.toThrow(/append-only/);
  });

  it('runs as the retention-sweep job (the nightly schedule enqueues it with the recompute)', async () => {
    const org = await createOrganization(t.db, { timezone: 'UTC' });
    const jobs = t.app.get(JobService);
    await jobs.scheduleNightly(new Date('2026-11-25T03:10:00Z'));
    const runs = async () =>
      t.db.query<{ dedup_key: string; status: string; result: { dry_run: boolean } | null }>(
        `SELECT dedup_key, status, result FROM job_runs WHERE organization_id = $1 AND type = $2`,
        [org.id, JobType.RetentionSweep],
      );
    const done = await eventually(runs, (r) => r.length === 1 && r[0].status !== 'queued' && r[0].status !== 'running', {
      what: 'the sweep job',
    });
    expect(done[0]).toMatchObject({
      dedup_key: 'retention-sweep:2026-11-25',
      status: 'succeeded',
      result: { dry_run: false, organization_id: org.id },
    });
  });
});
