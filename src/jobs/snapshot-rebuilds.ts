import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Freshness, markSnapshotStale } from 'src/common/cache/freshness';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { JobService } from 'src/jobs/job.service';
import { JobStatus } from 'src/jobs/job.types';

/** A process asks for one organization's rebuild of one kind at most this often (the job table dedups across processes). */
const ASK_EVERY_MS = 30_000;
/** Longest Retry-After of a first build's 503 (seconds). */
const MAX_RETRY_AFTER_SECONDS = 300;

/**
 * The rule for organization-wide snapshots that reads depend on (the opportunities, the engagement rollup; see
 * docs/resilience.md, "Snapshots"): a read never rebuilds one. They are rebuilt as jobs after every organization-wide
 * recompute; a read that finds its snapshot past SNAPSHOT_MAX_AGE_HOURS answers from it, marked stale (Age,
 * Cache-Status), and enqueues its rebuild (one queued or running per organization and kind); a read that finds none
 * at all (an organization never built) enqueues the first build and waits for it as long as a read statement may
 * take (DATABASE_STATEMENT_TIMEOUT_MS), then answers 503 `not-ready` with a Retry-After estimated from the build's
 * progress.
 */
@Injectable()
export class SnapshotRebuilds {
  private readonly logger = new Logger(SnapshotRebuilds.name);
  /** `${type}:${organizationId}` → when this process last asked for that rebuild (ms). */
  private readonly asked = new Map<string, number>();

  constructor(
    private readonly jobs: JobService,
    private readonly clock: Clock,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  get maxAgeMs(): number {
    return this.settings.jobs.snapshotMaxAgeHours * 3_600_000;
  }

  /**
   * For a read answered from a snapshot built at `builtAt`: past its lifetime, the answer is marked stale (in the
   * request's `freshness` record, `@RequestFreshness()`) and the rebuild (a job of `type`) asked for, without waiting.
   * Returns whether it was stale.
   */
  checkAge(type: string, organizationId: string, builtAt: Date, freshness: Freshness | undefined, payload: Record<string, unknown> = {}): boolean {
    const ageMs = this.clock.now().getTime() - builtAt.getTime();
    if (ageMs <= this.maxAgeMs) return false;
    markSnapshotStale(freshness, ageMs / 1000, (ageMs - this.maxAgeMs) / 1000);
    this.request(type, organizationId, payload);
    return true;
  }

  /** Enqueues a rebuild unless one of the organization's is queued or running; at most every 30 s per process; never throws. */
  request(type: string, organizationId: string, payload: Record<string, unknown> = {}): void {
    const key = `${type}:${organizationId}`;
    const now = Date.now();
    if (now - (this.asked.get(key) ?? -Infinity) < ASK_EVERY_MS) return;
    this.asked.set(key, now);
    this.jobs.enqueue(type, organizationId, payload, { unlessPending: 'unfinished' }).catch((err: unknown) => {
      this.asked.delete(key);
      this.logger.warn(`Rebuild ${type} of organization ${organizationId} not enqueued: ${(err as Error).message}`);
    });
  }

  /**
   * The organization has no snapshot: enqueues its first build (unless one is queued or running) and waits until
   * `built()` says it exists, for at most DATABASE_STATEMENT_TIMEOUT_MS; then throws 503 `not-ready` + Retry-After.
   */
  async awaitFirstBuild(type: string, organizationId: string, built: () => Promise<boolean>, payload: Record<string, unknown> = {}): Promise<void> {
    await this.jobs.enqueue(type, organizationId, payload, { unlessPending: 'unfinished' });
    const deadline = Date.now() + this.settings.resilience.readStatementTimeoutMs;
    for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 250)) {
      await sleep(Math.max(0, Math.min(delay, deadline - Date.now())));
      if (await built()) return;
    }
    throw ProblemException.unavailable(
      ProblemCode.NotReady,
      "The organization's data for this answer is being prepared for the first time; retry after the time given in Retry-After",
      await this.retryAfterSeconds(type, organizationId),
    );
  }

  /** From the running build's progress (elapsed × left / done), within [RETRY_AFTER_SECONDS, 300]. */
  private async retryAfterSeconds(type: string, organizationId: string): Promise<number> {
    const floor = this.settings.resilience.retryAfterSeconds;
    const [run] = await this.jobs.list(organizationId, 1, type).catch(() => []);
    const progress = run?.progress ?? 0;
    if (!run || run.status !== JobStatus.Running || !run.startedAt || progress < 0.01) return floor;
    const elapsedMs = this.clock.now().getTime() - new Date(run.startedAt).getTime();
    const leftSeconds = Math.ceil((elapsedMs * (1 - progress)) / progress / 1000);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(floor, leftSeconds));
  }
}
