import type { JobRunsResponse } from 'src/jobs/dto/jobs.response';

// The documented answer of GET /organizations/{organizationId}/jobs (openapi.json).
export const JOB_RUNS_EXAMPLE: JobRunsResponse = {
  jobs: [
    {
      id: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b',
      type: 'opportunities-refresh',
      status: 'running',
      queued_at: '2026-12-05T02:01:12.000Z',
      started_at: '2026-12-05T02:01:13.000Z',
      finished_at: null,
      attempts: 1,
      worker: 'worker-1:4312',
      error: null,
      progress: 0.4,
    },
    {
      id: '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901',
      type: 'nightly-recompute',
      status: 'succeeded',
      queued_at: '2026-12-05T02:00:00.000Z',
      started_at: '2026-12-05T02:00:01.000Z',
      finished_at: '2026-12-05T02:01:12.000Z',
      attempts: 1,
      worker: 'worker-1:4312',
      error: null,
      progress: 1,
    },
  ],
};
