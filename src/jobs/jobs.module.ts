import { Global, Module } from '@nestjs/common';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { JobRunsRepository } from 'src/jobs/job-runs.repository';
import { JOB_QUEUE, JobService } from 'src/jobs/job.service';
import { SnapshotRebuilds } from 'src/jobs/snapshot-rebuilds';
import { JobsController } from 'src/jobs/jobs.controller';
import { BullMqJobQueue } from 'src/jobs/queue/bullmq-job-queue';
import { InProcessJobQueue } from 'src/jobs/queue/in-process-job-queue';
import type { JobQueue } from 'src/jobs/queue/job-queue';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { hostname } from 'node:os';

/**
 * Background jobs: one queue for all of them (BullMQ on REDIS_URL, in process without it), their runs in `job_runs`,
 * the nightly scheduler, `GET /organizations/{id}/jobs`, and the rule for rebuilding organization-wide snapshots
 * (SnapshotRebuilds). Global: feature modules register their handlers with
 * JobService at init and enqueue through it.
 */
@Global()
@Module({
  imports: [OrganizationsModule],
  controllers: [JobsController],
  providers: [
    JobRunsRepository,
    JobService,
    SnapshotRebuilds,
    {
      provide: JOB_QUEUE,
      inject: [SETTINGS],
      useFactory: (settings: Settings): JobQueue =>
        settings.redisUrl
          ? new BullMqJobQueue(settings.redisUrl, { lockSeconds: settings.jobs.lockSeconds, prefix: 'patient-journey', workerName: `${hostname()}:${process.pid}` })
          : new InProcessJobQueue(),
    },
  ],
  exports: [JobService, SnapshotRebuilds],
})
export class JobsModule {}
