import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from 'src/app.factory';
import { FixedClock } from 'src/common/clock/clock';
import { FileStore } from 'src/file-store/file-store.service';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { ExportRecordsRepository } from 'src/privacy/export/export-records.repository';
import { createOrganization } from 'test/auth/auth-fixtures';
import { eventually } from 'test/utils/eventually';
import { testSettings, TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';
import { seedFullPatient } from 'test/privacy/export-fixtures';

/**
 * A bulk export survives its process: a run left `running` by a process that died (or stopped) mid-export is taken up
 * by the next process at start (JobService re-queues unfinished runs) and ends succeeded with complete files, or failed
 * with its reason: never stuck `running`.
 */
describe('bulk export across a restart', () => {
  let db: TestDatabase;
  const settings = () => testSettings(db.url, { JOB_ATTEMPTS: '2' });
  const boot = (): Promise<NestFastifyApplication> =>
    createApp({ settings: settings(), databaseUrl: db.url, clock: new FixedClock(TEST_NOW) });
  let org: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    org = (await createOrganization(db)).id;
    const t = { db, settings: settings() };
    for (let n = 0; n < 3; n++) await seedFullPatient(t, org, n);
  }, 120_000);
  afterAll(() => db.drop());

  const runOf = async (id: string) =>
    (
      await db.query<{
        status: string;
        error: string | null;
        attempts: number;
        result: { output: { type: string; count: number; file_id: string }[] } | null;
      }>(`SELECT status, error, attempts, result FROM job_runs WHERE id = $1`, [id])
    )[0];
  const ended = (id: string) =>
    eventually(
      () => runOf(id),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
      { what: `run ${id} ended` },
    );

  it('a run its dead process left running, with a half-written file, is finished by the next process', async () => {
    // What a process killed mid-export leaves: its run `running` under its name, a file still `writing`.
    const first = await boot();
    const [run] = await db.query<{ id: string }>(
      `INSERT INTO job_runs (organization_id, type, status, payload, queued_at, started_at, attempts, worker, progress)
       VALUES ($1, $2, 'running', '{}', now(), now(), 1, 'dead-host:1', 0.3) RETURNING id`,
      [org, JobType.BulkExport],
    );
    const partial = await first
      .get(FileStore)
      .create(org, { runId: run.id, name: 'Patient.ndjson', contentType: 'application/fhir+ndjson', expiresAt: null });
    await partial.writeLine('{"resourceType":"Patient","id":"half"}');
    await first.close();
    expect((await runOf(run.id)).status).toBe('running');

    const next = await boot(); // recovers at start
    try {
      const done = await ended(run.id);
      expect(done).toMatchObject({ status: 'succeeded', error: null, attempts: 2 });
      const [{ patients }] = await db.query<{ patients: number }>(
        `SELECT count(*)::int AS patients FROM patients WHERE organization_id = $1`,
        [org],
      );
      expect(done.result!.output.find((o) => o.type === 'Patient')?.count).toBe(patients);
      const files = await db.query<{ id: string; status: string }>(`SELECT id, status FROM stored_files WHERE run_id = $1 ORDER BY id`, [
        run.id,
      ]);
      expect(files.map((f) => f.status).every((s) => s === 'complete')).toBe(true);
      expect(files.map((f) => f.id).sort()).toEqual(done.result!.output.map((o) => o.file_id).sort());
      expect(files.some((f) => f.id === partial.id)).toBe(false);
    } finally {
      await next.close();
    }
  }, 120_000);

  it('a run stopped mid-export by a shutdown is resumed by the next process and ends succeeded', async () => {
    const first = await boot();
    let releaseGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (releaseGate = resolve));
    const original = ExportRecordsRepository.prototype.batches;
    let reachedAppointments = false;
    const spy = jest.spyOn(ExportRecordsRepository.prototype, 'batches').mockImplementation(async function* (
      this: ExportRecordsRepository,
      ...args
    ) {
      if (args[1] === 'appointments') {
        reachedAppointments = true;
        await gate; // mid-export: the patients are written, the appointments not yet
      }
      yield* original.apply(this, args);
    });
    let runId: string;
    try {
      runId = (await first.get(JobService).enqueue(JobType.BulkExport, org, {}))!.id;
      await eventually(
        () => reachedAppointments,
        (r) => r,
        { what: 'the export reached the appointments' },
      );
      expect((await runOf(runId)).status).toBe('running');
      const closing = first.close(); // the shutdown aborts the run; it stops at its next safe point
      releaseGate();
      await closing;
    } finally {
      spy.mockRestore();
    }
    const stopped = await runOf(runId);
    expect(['queued', 'running']).toContain(stopped.status); // unfinished, for the next process

    const next = await boot();
    try {
      const done = await ended(runId);
      expect(done.status).toBe('succeeded');
      const [{ appointments }] = await db.query<{ appointments: number }>(
        `SELECT count(*)::int AS appointments FROM appointments WHERE organization_id = $1`,
        [org],
      );
      expect(done.result!.output.find((o) => o.type === 'Appointment')?.count).toBe(appointments);
      const files = await db.query<{ id: string }>(`SELECT id FROM stored_files WHERE run_id = $1`, [runId]);
      expect(files.map((f) => f.id).sort()).toEqual(done.result!.output.map((o) => o.file_id).sort());
    } finally {
      await next.close();
    }
  }, 120_000);

  it('a run whose payload cannot be an export ends failed with its reason, not stuck', async () => {
    const app = await boot();
    await app.close();
    const [run] = await db.query<{ id: string }>(
      `INSERT INTO job_runs (organization_id, type, status, payload, queued_at, started_at, attempts, worker)
       VALUES ($1, $2, 'running', '{"types": ["Nope"]}', now(), now(), 1, 'dead-host:1') RETURNING id`,
      [org, JobType.BulkExport],
    );
    const next = await boot();
    try {
      const done = await ended(run.id);
      expect(done.status).toBe('failed');
      expect(done.error).toBe('TypeError: bulk export payload: types must be a list of exportable resource types');
      expect(await db.query(`SELECT id FROM stored_files WHERE run_id = $1`, [run.id])).toEqual([]);
    } finally {
      await next.close();
    }
  }, 120_000);
});
