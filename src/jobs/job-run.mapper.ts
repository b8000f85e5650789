import type { JobRunResponse } from 'src/jobs/dto/jobs.response';
import type { JobRunRow } from 'src/jobs/job.types';

const iso = (d: Date | null): string | null => (d === null ? null : new Date(d).toISOString());

export function toJobRunResponse(r: JobRunRow): JobRunResponse {
  return {
    id: r.id,
    type: r.type,
    // The list's four statuses: a cancelled run ended without succeeding, and says so.
    status: r.status === 'cancelled' ? 'failed' : r.status,
    queued_at: new Date(r.queuedAt).toISOString(),
    started_at: iso(r.startedAt),
    finished_at: iso(r.finishedAt),
    attempts: r.attempts,
    worker: r.worker,
    error: r.status === 'cancelled' ? (r.error ?? 'Cancelled') : r.error,
    progress: r.progress,
  };
}
