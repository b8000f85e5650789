import type { JobProcessor, JobQueue, QueuedJob, TickProcessor } from 'src/jobs/queue/job-queue';

interface Pending {
  job: QueuedJob;
  attempt: number;
  attempts: number;
}

/** Delay before retry `attempt` (1 = the first retry): 2 s, 4 s, 8 s... at most a minute. */
export const retryDelayMs = (attempt: number): number => Math.min(60_000, 2000 * 2 ** (attempt - 1));

/**
 * The queue without Redis (the zero-setup default): jobs run in this process, `concurrency` at once, failed
 * attempts retried with backoff. Nothing is kept here: a job's state is its `job_runs` row, and a restarted
 * process re-queues the runs it finds unfinished (JobService.recover).
 */
export class InProcessJobQueue implements JobQueue {
  readonly distributed = false;
  private readonly pending: Pending[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private processor: JobProcessor | null = null;
  private concurrency = 1;
  private tickTimer: NodeJS.Timeout | null = null;
  private closed = false;

  async add(job: QueuedJob, options: { attempts: number; delayMs?: number }): Promise<void> {
    this.schedule({ job, attempt: 1, attempts: options.attempts }, options.delayMs ?? 0);
  }

  async work(processor: JobProcessor, tick: { everyMs: number; run: TickProcessor }, concurrency: number): Promise<void> {
    this.processor = processor;
    this.concurrency = concurrency;
    this.tickTimer = setInterval(() => void tick.run().catch(() => undefined), tick.everyMs);
    this.tickTimer.unref();
    this.drain();
  }

  private schedule(item: Pending, delayMs: number): void {
    if (this.closed) return;
    if (delayMs <= 0) {
      this.pending.push(item);
      this.drain();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending.push(item);
      this.drain();
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private drain(): void {
    while (!this.closed && this.processor && this.running.size < this.concurrency && this.pending.length > 0) {
      const item = this.pending.shift() as Pending;
      const processor = this.processor;
      const run: Promise<void> = processor(item.job, item.attempt, item.attempt >= item.attempts)
        .catch(() => {
          if (item.attempt < item.attempts) this.schedule({ ...item, attempt: item.attempt + 1 }, retryDelayMs(item.attempt));
        })
        .finally(() => {
          this.running.delete(run);
          this.drain();
        });
      this.running.add(run);
    }
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.pending.length > 0) await Promise.race([...this.running, new Promise((r) => setTimeout(r, 10))]);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.length = 0;
    await Promise.allSettled([...this.running]);
  }
}
