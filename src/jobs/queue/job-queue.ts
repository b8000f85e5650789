/** What the queue carries: the run's id and where to find it (never the payload, which stays in `job_runs`). */
export interface QueuedJob {
  runId: string;
  organizationId: string;
  type: string;
}

/** Runs a delivered job. `final`: no attempt follows this one if it fails. Throwing fails the attempt. */
export type JobProcessor = (job: QueuedJob, attempt: number, final: boolean) => Promise<void>;

/** A periodic tick (the nightly scheduler's): once per interval across every worker of the queue. */
export type TickProcessor = () => Promise<void>;

/**
 * The one job mechanism's transport: BullMQ on Redis (several instances and workers share it) or, without Redis,
 * in this process. Retries, backoff, concurrency and the take-over of a dead worker's jobs belong to it.
 */
export interface JobQueue {
  /** True when other processes share this queue (BullMQ). */
  readonly distributed: boolean;
  add(job: QueuedJob, options: { attempts: number; delayMs?: number }): Promise<void>;
  /** Starts running jobs here, `concurrency` at once, and the periodic tick. */
  work(processor: JobProcessor, tick: { everyMs: number; run: TickProcessor }, concurrency: number): Promise<void>;
  /** Stops taking jobs and waits for those running (they see their signal aborted), then disconnects. */
  close(): Promise<void>;
}
