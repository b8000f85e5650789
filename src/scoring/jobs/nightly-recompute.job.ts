import { Injectable, OnModuleInit } from '@nestjs/common';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { ScoringService } from 'src/scoring/scoring.service';

/**
 * `nightly-recompute`: one organization's organization-wide recompute (refit and every patient's scores), as the
 * nightly scheduler enqueues it at 03:00 local time, or `npm run jobs -- enqueue nightly-recompute`. Idempotent: a
 * second run recomputes the same scores; two never overlap (the recompute's advisory lock). Its end is announced to
 * every process (ScoringEvents), whose features enqueue their follow-ups (opportunities, engagement rollup) once.
 */
@Injectable()
export class NightlyRecomputeJob implements JobHandler, OnModuleInit {
  readonly type = JobType.NightlyRecompute;

  constructor(
    private readonly jobs: JobService,
    private readonly scoring: ScoringService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(context: JobContext): Promise<Record<string, unknown>> {
    // Its own metrics partition vacuumed, not every organization's: the whole scoring tables once per organization
    // made the night quadratic in the number of organizations (docs/scaling.md).
    const result = await this.scoring.recomputeOrganization(
      context.organizationId,
      (done, total) => {
        void context.progress(total > 0 ? done / total : 0).catch(() => undefined);
      },
      { vacuum: 'own-partition' },
    );
    return { patients: result.patients, total_ms: result.totalMs, fit_ms: result.fitMs, fitted: result.fitted, features_kept: result.featuresKept };
  }
}
