import { Queue, Worker, type Job } from 'bullmq';
import { retryDelayMs } from 'src/jobs/queue/in-process-job-queue';
import type { JobProcessor, JobQueue, QueuedJob, TickProcessor } from 'src/jobs/queue/job-queue';

/** The queue's name in Redis (under the key prefix). */
export const QUEUE_NAME = 'jobs';
/** The periodic tick's job scheduler and job name. */
const TICK = 'scheduler-tick';

/**
 * The queue on Redis (BullMQ), shared by every API instance and worker: a job is taken by one worker; a worker that
 * dies mid-job stops renewing its lock, and after `lockSeconds` BullMQ's stalled-job check gives the job to another
 * (`maxStalledCount` times). Failed attempts are retried with exponential backoff. The tick is a BullMQ job
 * scheduler: one tick per interval, whatever the number of workers.
 */
export class BullMqJobQueue implements JobQueue {
  readonly distributed = true;
  private readonly queue: Queue;
  private worker: Worker | null = null;

  constructor(
    private readonly redisUrl: string,
    private readonly options: { lockSeconds: number; prefix: string; workerName: string },
  ) {
    this.queue = new Queue(QUEUE_NAME, {
      connection: { url: redisUrl },
      prefix: options.prefix,
      defaultJobOptions: { removeOnComplete: { age: 7 * 86_400, count: 10_000 }, removeOnFail: { age: 30 * 86_400 } },
    });
    this.queue.on('error', () => undefined); // reconnects by itself; a failed add rejects its caller
  }

  async add(job: QueuedJob, options: { attempts: number; delayMs?: number }): Promise<void> {
    await this.queue.add(job.type, job, {
      jobId: job.runId,
      attempts: options.attempts,
      backoff: { type: 'custom' },
      delay: options.delayMs,
    });
  }

  async work(processor: JobProcessor, tick: { everyMs: number; run: TickProcessor }, concurrency: number): Promise<void> {
    await this.queue.upsertJobScheduler(TICK, { every: tick.everyMs }, { name: TICK, data: {}, opts: { removeOnComplete: true, removeOnFail: true } });
    this.worker = new Worker(
      QUEUE_NAME,
      async (job: Job) => {
        if (job.name === TICK) return tick.run();
        const attempt = job.attemptsMade + 1;
        return processor(job.data as QueuedJob, attempt, attempt >= (job.opts.attempts ?? 1));
      },
      {
        connection: { url: this.redisUrl, maxRetriesPerRequest: null },
        prefix: this.options.prefix,
        concurrency,
        name: this.options.workerName,
        lockDuration: this.options.lockSeconds * 1000,
        stalledInterval: Math.max(1000, (this.options.lockSeconds * 1000) / 2),
        maxStalledCount: 3,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(attemptsMade) },
      },
    );
    this.worker.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
  }
}
