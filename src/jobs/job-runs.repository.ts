import { Injectable } from '@nestjs/common';
import type { CrossTenantSql } from 'src/database/cross-tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { JobStatus, type JobRunRow } from 'src/jobs/job.types';

const COLUMNS = `id, organization_id AS "organizationId", type, dedup_key AS "dedupKey", status, payload, result, progress,
  queued_at AS "queuedAt", started_at AS "startedAt", finished_at AS "finishedAt", attempts, worker, error`;

/** A run of any organization that has not ended, as the one cross-organization read of the job system sees it. */
export interface UnfinishedRun {
  id: string;
  organizationId: string;
  type: string;
  status: JobStatus;
  worker: string | null;
}

/** The organization's job runs (`job_runs`), on its tenant handle. */
@Injectable()
export class JobRunsRepository {
  /**
   * A new queued run; null when the organization already has a run of this type with `dedupKey` (whatever its
   * status): the work was enqueued before, by this process or another.
   */
  async insert(db: TenantSql, run: { type: string; payload: Record<string, unknown>; dedupKey: string | null; now: Date }): Promise<JobRunRow | null> {
    const rows = await db.query<JobRunRow>(
      `INSERT INTO job_runs (organization_id, type, dedup_key, status, payload, queued_at)
       VALUES ($1, $2, $3, 'queued', $4::jsonb, $5)
       ON CONFLICT (organization_id, type, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      [db.organizationId, run.type, run.dedupKey, JSON.stringify(run.payload), run.now],
    );
    return rows[0] ?? null;
  }

  /**
   * Runs done already, recorded as succeeded in one statement (JobService.runTogether: inside the transaction that
   * did their work, so that the work and its record commit together, without the queued and running versions of the
   * row: no dead rows). A type whose `dedupKey` the organization has already is left out (recorded before).
   * `finishing`: a running run ended as succeeded with `result` in the same statement (what `succeed` does).
   */
  async insertSucceeded(
    db: TenantSql,
    runs: readonly {
      type: string;
      payload: Record<string, unknown>;
      dedupKey: string | null;
      result: Record<string, unknown>;
      queuedAt: Date;
      startedAt: Date;
      finishedAt: Date;
    }[],
    worker: string,
    finishing?: { id: string; result: Record<string, unknown>; now: Date },
  ): Promise<JobRunRow[]> {
    if (runs.length === 0 && !finishing) return [];
    // `finishing`: the calling run's end (as `succeed` writes it) in the same statement, one round trip for both (a
    // CTE: the UPDATE of that run's row and the INSERT of new ones touch different rows; both see the same snapshot).
    // Without it, $4 is null and the UPDATE matches nothing: one prepared statement for both cases.
    return db.query<JobRunRow>(
      `WITH finished AS (
         UPDATE job_runs SET status = 'succeeded', result = $5::jsonb, progress = 1, finished_at = $6, error = NULL, updated_at = $6
          WHERE organization_id = $1 AND id = $4::uuid AND status = 'running'
          RETURNING 1)
       INSERT INTO job_runs (organization_id, type, dedup_key, status, payload, result, progress, queued_at, started_at, finished_at, attempts, worker, updated_at)
       SELECT $1::uuid, r.type, r.dedup_key, 'succeeded', r.payload, r.result, 1, r.queued_at, r.started_at, r.finished_at, 1, $3::text, r.finished_at
         FROM jsonb_to_recordset($2::jsonb) AS r(type text, dedup_key text, payload jsonb, result jsonb, queued_at timestamptz, started_at timestamptz, finished_at timestamptz)
       ON CONFLICT (organization_id, type, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        db.organizationId,
        JSON.stringify(
          runs.map((r) => ({
            type: r.type,
            dedup_key: r.dedupKey,
            payload: r.payload,
            result: r.result,
            queued_at: r.queuedAt.toISOString(),
            started_at: r.startedAt.toISOString(),
            finished_at: r.finishedAt.toISOString(),
          })),
        ),
        worker,
        finishing?.id ?? null,
        finishing ? JSON.stringify(finishing.result) : null,
        finishing?.now ?? null,
      ],
      // Prepared on the connection: run once per small clinic, thousands a night (JobService.runTogether).
      { prepare: 'job-runs-insert-succeeded-finishing' },
    );
  }

  /**
   * A new queued run unless the organization has a run of this type already `pending` (`queued`: not started yet;
   * `unfinished`: queued or running): null then. Under a transaction-scoped advisory lock per (organization, type),
   * so that two enqueuers (two requests, two processes) cannot both see none. `db` must be a transaction's.
   */
  async insertUnlessPending(
    db: TenantSql,
    run: { type: string; payload: Record<string, unknown>; dedupKey: string | null; now: Date },
    pending: 'queued' | 'unfinished',
  ): Promise<JobRunRow | null> {
    await db.query(`SELECT pg_advisory_xact_lock(hashtext('job-runs:' || $1 || ':' || $2))`, [db.organizationId, run.type]);
    const statuses = pending === 'queued' ? [JobStatus.Queued] : [JobStatus.Queued, JobStatus.Running];
    const found = await db.query<{ id: string }>(
      `SELECT id FROM job_runs WHERE organization_id = $1 AND type = $2 AND status = ANY($3::text[]) LIMIT 1`,
      [db.organizationId, run.type, statuses],
    );
    if (found.length > 0) return null;
    return this.insert(db, run);
  }

  async byId(db: TenantSql, id: string): Promise<JobRunRow | null> {
    const rows = await db.query<JobRunRow>(`SELECT ${COLUMNS} FROM job_runs WHERE organization_id = $1 AND id = $2`, [db.organizationId, id]);
    return rows[0] ?? null;
  }

  /**
   * Takes the run for `worker`: running, one more attempt. Null when it has ended (succeeded, failed, cancelled): a
   * job delivered twice (BullMQ can, rarely) runs once. A run still marked running is taken over: its worker died.
   */
  async claim(db: TenantSql, id: string, worker: string, now: Date): Promise<JobRunRow | null> {
    const rows = await db.query<JobRunRow>(
      `UPDATE job_runs SET status = 'running', attempts = attempts + 1, worker = $3, started_at = $4, error = NULL, updated_at = $4
        WHERE organization_id = $1 AND id = $2 AND status IN ('queued', 'running')
        RETURNING ${COLUMNS}`,
      [db.organizationId, id, worker, now],
    );
    return rows[0] ?? null;
  }

  /** The run's progress (0 to 1); returns its status, so that a job can see it was cancelled. */
  async progress(db: TenantSql, id: string, fraction: number): Promise<JobStatus | null> {
    const rows = await db.query<{ status: JobStatus }>(
      `UPDATE job_runs SET progress = $3, updated_at = now() WHERE organization_id = $1 AND id = $2 RETURNING status`,
      [db.organizationId, id, Math.min(1, Math.max(0, fraction))],
    );
    return rows[0]?.status ?? null;
  }

  async succeed(db: TenantSql, id: string, result: Record<string, unknown>, now: Date): Promise<void> {
    await db.query(
      `UPDATE job_runs SET status = 'succeeded', result = $3::jsonb, progress = 1, finished_at = $4, error = NULL, updated_at = $4
        WHERE organization_id = $1 AND id = $2 AND status = 'running'`,
      [db.organizationId, id, JSON.stringify(result), now],
    );
  }

  /** An attempt failed and another will follow: queued again, with the reason. */
  async retryLater(db: TenantSql, id: string, error: string, now: Date): Promise<void> {
    await db.query(`UPDATE job_runs SET status = 'queued', error = $3, updated_at = $4 WHERE organization_id = $1 AND id = $2 AND status = 'running'`, [
      db.organizationId,
      id,
      error,
      now,
    ]);
  }

  async fail(db: TenantSql, id: string, error: string, now: Date): Promise<void> {
    await db.query(
      `UPDATE job_runs SET status = 'failed', error = $3, finished_at = $4, updated_at = $4
        WHERE organization_id = $1 AND id = $2 AND status IN ('queued', 'running')`,
      [db.organizationId, id, error, now],
    );
  }

  /** Cancels a run that has not ended; false when it had. */
  async cancel(db: TenantSql, id: string, now: Date): Promise<boolean> {
    const rows = await db.query<{ id: string }>(
      `UPDATE job_runs SET status = 'cancelled', finished_at = $3, updated_at = $3
        WHERE organization_id = $1 AND id = $2 AND status IN ('queued', 'running') RETURNING id`,
      [db.organizationId, id, now],
    );
    return rows.length > 0;
  }

  /** The organization's most recent runs, newest first (optionally of one type). */
  recent(db: TenantSql, limit: number, type?: string): Promise<JobRunRow[]> {
    return db.query<JobRunRow>(
      `SELECT ${COLUMNS} FROM job_runs WHERE organization_id = $1 AND ($3::text IS NULL OR type = $3) ORDER BY queued_at DESC, id LIMIT $2`,
      [db.organizationId, limit, type ?? null],
    );
  }

  /** Every organization's queued and running runs (job_runs_unfinished(): ids, types and workers only). */
  unfinished(sql: CrossTenantSql): Promise<UnfinishedRun[]> {
    return sql.query<UnfinishedRun>(`SELECT id, organization_id AS "organizationId", type, status, worker FROM job_runs_unfinished()`);
  }
}
