import { Injectable, OnModuleInit } from '@nestjs/common';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { RetentionSweep } from 'src/privacy/retention/retention-sweep';

/**
 * `retention-sweep`: one organization's retention sweep (RetentionSweep), enqueued nightly with the recompute
 * (JobService.scheduleNightly) or by hand (`npm run jobs -- enqueue retention-sweep`). Payload: optional `as_of` (ISO
 * 8601) and `dry_run`. Idempotent: a patient erased already is skipped, retired events are not there any more.
 */
@Injectable()
export class RetentionSweepJob implements JobHandler, OnModuleInit {
  readonly type = JobType.RetentionSweep;

  constructor(
    private readonly jobs: JobService,
    private readonly sweep: RetentionSweep,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(context: JobContext): Promise<Record<string, unknown>> {
    const asOf = typeof context.payload.as_of === 'string' ? new Date(context.payload.as_of) : undefined;
    if (asOf && Number.isNaN(asOf.getTime())) throw new TypeError('retention-sweep payload: as_of must be an ISO 8601 time');
    const report = await this.sweep.run(context.organizationId, {
      asOf,
      dryRun: context.payload.dry_run === true,
      progress: (f) => context.progress(f),
      runId: context.runId,
    });
    return { ...report };
  }

  retryable(error: unknown): boolean {
    return !(error instanceof TypeError);
  }
}
