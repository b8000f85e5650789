import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** What a job's code gets: its run, its organization, and the means to report progress and see a cancellation. */
export interface JobContext {
  runId: string;
  organizationId: string;
  payload: Record<string, unknown>;
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborted when the run is cancelled (seen at the next `progress` call) or the process shuts down. */
  signal: AbortSignal;
  /**
   * Reports progress (0 to 1; stored at most every second). Throws JobCancelledError once the run was cancelled: a
   * long job calls it between its steps, which are its safe points.
   */
  progress(fraction: number): Promise<void>;
}

/**
 * A kind of background work. Handlers must be idempotent: a job may run twice (a worker that died mid-run is
 * retried elsewhere; BullMQ can, rarely, deliver a job twice) and must end in the same state.
 */
export interface JobHandler {
  readonly type: string;
  /** Returns what the run's result shows (counts, durations, ids: never PHI). */
  run(context: JobContext): Promise<Record<string, unknown> | void>;
  /**
   * The same work on the caller's transaction, bound to the organization (JobService.runTogether: a small
   * organization's nightly follow-ups, one transaction for both). It must take the locks it needs itself and leave
   * the transaction to the caller (no COMMIT, no statements of its own outside `db`); the transaction has
   * REBUILD_SETTINGS (src/database/tenant/rebuild-settings.ts) already. `given`: what the caller has in hand for
   * this type (runTogether's `given`, e.g. the nightly recompute's LTV percentile), not recorded with the run.
   */
  runInTransaction?(
    db: TenantSql,
    context: { organizationId: string; payload: Record<string, unknown>; given?: Record<string, unknown> },
  ): Promise<Record<string, unknown>>;
  /** When a retry cannot help (the input is wrong): fail at once. Default: retried up to JOB_ATTEMPTS. */
  retryable?(error: unknown): boolean;
}

/** The run was cancelled (or the process is shutting down): the job stops at its next safe point. */
export class JobCancelledError extends Error {
  constructor() {
    super('The job was cancelled');
    this.name = 'JobCancelledError';
  }
}
