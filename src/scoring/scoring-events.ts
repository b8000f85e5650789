import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { Subject } from 'rxjs';
import { Database } from 'src/database/database';

export interface ScoresRecomputed {
  organizationId: string;
  /** The patients recomputed; absent after an organization-wide recompute (everything may have changed). */
  patientIds?: readonly string[];
  /** An organization-wide recompute's id: what follow-up work is keyed by, so that it runs once whoever hears it. */
  recomputeId?: string;
  /**
   * The recompute's follow-ups (opportunities refresh, engagement rebuild) were run or queued by the job itself (a
   * small organization's nightly run: src/scoring/jobs/nightly-recompute.job.ts): hearers only drop their caches.
   */
  followUpsDone?: boolean;
}

/** The channel an organization-wide recompute is announced on (src/database/notifications.ts). */
const CHANNEL = 'scores_recomputed';

/**
 * The scoring engine's notifications. `recomputed$` emits after a recompute committed:
 * - with `patientIds`: patients recomputed by this process (an ingestion's aftermath); their follow-ups (the
 *   opportunities and the engagement rollup of those patients) run here, in the request's aftermath;
 * - without: an organization-wide recompute finished in any process of the cluster (a worker, `npm run recompute`,
 *   this one), announced over PostgreSQL's NOTIFY, so that every instance drops the organization's cached counts,
 *   summaries, pages and scoring context; the organization-wide follow-ups are jobs (src/jobs/), enqueued once.
 *
 *   constructor(events: ScoringEvents) { events.recomputed$.subscribe(({ organizationId }) => this.forget(organizationId)); }
 *
 * Subscribers must not throw (errors are not caught here).
 */
@Injectable()
export class ScoringEvents implements OnModuleInit {
  private readonly logger = new Logger(ScoringEvents.name);
  readonly recomputed$ = new Subject<ScoresRecomputed>();

  constructor(@Optional() private readonly database?: Database) {}

  async onModuleInit(): Promise<void> {
    await this.database?.notifications.listen(CHANNEL, (payload) => {
      const event = parse(payload);
      if (event) this.recomputed$.next(event);
    });
  }

  /** Patients recomputed by this process. */
  patientsRecomputed(organizationId: string, patientIds: readonly string[]): void {
    this.recomputed$.next({ organizationId, patientIds });
  }

  /**
   * An organization-wide recompute finished: announced to every process on the database (this one included). Without
   * a database (unit tests), told to this process's subscribers only.
   */
  async organizationRecomputed(organizationId: string, options: { recomputeId?: string; followUpsDone?: boolean } = {}): Promise<void> {
    const event: ScoresRecomputed = { organizationId, recomputeId: options.recomputeId ?? randomUUID(), ...(options.followUpsDone ? { followUpsDone: true } : {}) };
    if (!this.database) {
      this.recomputed$.next(event);
      return;
    }
    await announceOrganizationRecomputed(this.database, event).catch((err: unknown) => {
      // The recompute is done; the caches catch up within their TTL.
      this.logger.warn(`Could not announce the recompute of organization ${organizationId}: ${(err as Error).message}`);
      this.recomputed$.next(event);
    });
  }
}

/** What `npm run recompute` (another process) sends: the same announcement. */
export async function announceOrganizationRecomputed(database: Database, event: ScoresRecomputed = { organizationId: '' }): Promise<void> {
  // First the write's WAL position (read replicas: every process reads the organization from the primary until a
  // replica has replayed the recompute), then the recompute itself (caches dropped, follow-ups enqueued): one statement.
  await database.announceWrite(event.organizationId, {
    channel: CHANNEL,
    payload: {
      organizationId: event.organizationId,
      recomputeId: event.recomputeId ?? randomUUID(),
      ...(event.followUpsDone ? { followUpsDone: true } : {}),
    },
  });
}

function parse(payload: string): ScoresRecomputed | null {
  try {
    const v = JSON.parse(payload) as { organizationId?: unknown; recomputeId?: unknown; followUpsDone?: unknown };
    if (typeof v.organizationId !== 'string' || typeof v.recomputeId !== 'string') return null;
    return { organizationId: v.organizationId, recomputeId: v.recomputeId, ...(v.followUpsDone === true ? { followUpsDone: true } : {}) };
  } catch {
    return null;
  }
}
