/** The kinds of background work, one queue for all (docs/architecture.md, "Add a job"). */
export const JobType = {
  /** An organization's nightly organization-wide recompute (then its opportunities and engagement rollup). */
  NightlyRecompute: 'nightly-recompute',
  /** Rebuild an organization's reengagement opportunities. */
  OpportunitiesRefresh: 'opportunities-refresh',
  /** Rebuild an organization's engagement rollup. */
  EngagementRebuild: 'engagement-rebuild',
  /** A de-identified data set for research or benchmarking (src/privacy/). */
  DeidentifiedExport: 'deidentified-export',
  /** An organization's bulk export (FHIR NDJSON files in the file store; src/privacy/export). */
  BulkExport: 'bulk-export',
  /** An organization's retention sweep: inactive patients erased, old audit months archived and retired (src/privacy/retention). */
  RetentionSweep: 'retention-sweep',
  /** ANALYZE of the tables whose statistics do not know an organization that grew through the API (src/scoring/statistics). */
  OrganizationStatistics: 'organization-statistics',
} as const;
export type JobType = (typeof JobType)[keyof typeof JobType];

export const JobStatus = {
  Queued: 'queued',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** A job run as stored (`job_runs`). */
export interface JobRunRow {
  id: string;
  organizationId: string;
  type: string;
  dedupKey: string | null;
  status: JobStatus;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  progress: number | null;
  queuedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  attempts: number;
  worker: string | null;
  error: string | null;
}
