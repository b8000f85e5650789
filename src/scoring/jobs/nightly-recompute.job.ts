import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { SMALL_ORGANIZATION_PATIENTS } from 'src/scoring/recompute/organization-recompute';
import { ScoringService } from 'src/scoring/scoring.service';

/** The follow-ups of an organization-wide recompute, as jobs of their own (src/opportunities, src/engagement). */
const FOLLOW_UPS = [JobType.OpportunitiesRefresh, JobType.EngagementRebuild];

/**
 * `nightly-recompute`: one organization's organization-wide recompute (its patients' scores, with the models refitted
 * when due), as the nightly scheduler enqueues it at 03:00 local time, or `npm run jobs -- enqueue nightly-recompute`.
 * Idempotent: a second run recomputes the same scores; two never overlap (the recompute's advisory lock). Its end is
 * announced to every process (ScoringEvents). A large organization's follow-ups (opportunities, engagement rollup)
 * are then enqueued once by whoever hears it, jobs that other workers take; a small organization's (fewer than
 * SMALL_ORGANIZATION_PATIENTS) run here, in this job, both in one transaction, each recorded in it as its own
 * succeeded run (JobService.runTogether, keyed by the recompute as the enqueued ones are), before the announcement:
 * thousands of small clinics a night made three jobs each, and the queue's and the enqueuers' round trips outweighed
 * a 200-patient clinic's follow-ups; then two transactions and eight job_runs statements per clinic did.
 */
@Injectable()
export class NightlyRecomputeJob implements JobHandler, OnModuleInit {
  readonly type = JobType.NightlyRecompute;
  private readonly logger = new Logger(NightlyRecomputeJob.name);

  constructor(
    private readonly jobs: JobService,
    private readonly scoring: ScoringService,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run(context: JobContext): Promise<Record<string, unknown>> {
    const { organizationId } = context;
    // Its own metrics partition vacuumed (a large organization's), not every organization's: the whole scoring tables
    // once per organization made the night quadratic in the number of organizations (docs/scaling.md). A small
    // organization keeps its recent models unless a refit is due (nightlyRefitDue).
    const result = await this.scoring.recomputeOrganization(
      organizationId,
      (done, total) => {
        void context.progress(total > 0 ? done / total : 0).catch(() => undefined);
      },
      { vacuum: 'own-partition', refit: 'when-due', announce: false },
    );
    const recomputeId = randomUUID();
    const { phases } = result;
    const resultOf = (followUpsMs: number | undefined, announceMs: number | undefined): Record<string, unknown> => ({
      patients: result.patients,
      total_ms: result.totalMs,
      fit_ms: result.fitMs,
      fitted: result.fitted,
      refitted: result.refitted,
      features_kept: result.featuresKept,
      phases_ms: {
        connect: phases.connectMs,
        setup: phases.setupMs,
        read: phases.readMs,
        wait: phases.waitMs,
        score: phases.scoreMs,
        write: phases.writeMs,
        vacuum: phases.vacuumMs,
        ...(followUpsMs === undefined ? {} : { follow_ups: followUpsMs }),
        ...(announceMs === undefined ? {} : { announce: announceMs }),
      },
    });
    let followUpsMs: number | undefined;
    let followUpsDone = false;
    if (result.patients < SMALL_ORGANIZATION_PATIENTS) {
      const started = Date.now();
      try {
        // Both in one transaction, each recorded as its own succeeded run in it, and this run's own end with them
        // (JobService.runTogether's `finishing`: one commit for the three records; the follow-ups' time is until
        // this run's end is written, the announcement's, after the commit, is not in the result).
        // The opportunities' LTV threshold is the percentile of the LTVs this recompute wrote (its result's): their
        // rebuild would read them back for it (docs/scaling.md, "The opportunities' night").
        const given =
          result.ltvPercentile75Cents === undefined
            ? undefined
            : { [JobType.OpportunitiesRefresh]: { ltvThresholdCents: result.ltvPercentile75Cents ?? 0 } };
        await this.jobs.runTogether(FOLLOW_UPS, organizationId, {
          dedupKey: `after-recompute:${recomputeId}`,
          finishing: { context, result: () => resultOf(Date.now() - started, undefined) },
          given,
        });
        followUpsDone = true;
      } catch (err) {
        // Not done and not recorded (rolled back): the announcement's hearers enqueue them as for a large organization.
        this.logger.warn(`Follow-ups of the recompute of organization ${organizationId} not run here: ${(err as Error).message}`);
      }
      followUpsMs = Date.now() - started;
    }
    const announceStarted = Date.now();
    // After this run's end when the follow-ups recorded it (a process that dies in between leaves the other
    // processes' caches to their TTL, as a failed announcement does); else before it, as always.
    if (!followUpsDone) {
      await this.scoring.announceRecomputed(organizationId, { recomputeId, followUpsDone });
      return resultOf(followUpsMs, Date.now() - announceStarted);
    }
    // This run's end is recorded already (succeeded): a failed announcement must not turn it into a failure and a
    // retry; the other processes' caches catch up within their TTL, as when a process dies here.
    await this.scoring.announceRecomputed(organizationId, { recomputeId, followUpsDone }).catch((err: unknown) => {
      this.logger.warn(`The recompute of organization ${organizationId} was not announced: ${(err as Error).message}`);
    });
    return {};
  }
}
