import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { contentHash } from 'src/audit/trail/hash-chain';
import { AuditEventContent, NO_ORGANIZATION } from 'src/audit/trail/audit-event';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { loggableError } from 'src/common/problem/problem.filter';

/** The audit trail could not take an event: the request that caused it must not succeed. */
export class AuditWriteError extends Error {
  constructor(override readonly cause: unknown) {
    super('The audit event could not be written');
    this.name = 'AuditWriteError';
  }
}

const UNKNOWN_ORGANIZATION = '23503';
/** At most this many events in one append statement. */
export const MAX_AUDIT_BATCH = 500;

interface Pending {
  event: AuditEventContent;
  resolve(seq: number): void;
  reject(err: unknown): void;
}

interface OrganizationQueue {
  pending: Pending[];
  flushing: boolean;
  /** A short wait for the organization's running requests (see `coalesceMs`), or null. */
  timer: NodeJS.Timeout | null;
}

/** Longest a batch waits for the organization's other running requests to add their events (milliseconds). */
export const AUDIT_COALESCE_MS = 4;

function isUnknownOrganization(err: unknown): boolean {
  return (err as { code?: unknown }).code === UNKNOWN_ORGANIZATION;
}

/**
 * Appends events to the audit trail.
 *
 * Outside a transaction, events wait in a queue per organization and are appended together (group commit): while
 * one batch is being committed, the events that arrive meanwhile gather and go in the next. Each caller resolves
 * only once the statement holding its event has committed, so "recorded before the response leaves" holds; but
 * the organization's chain lock and the commit's disk flush are paid once per batch instead of once per request,
 * which is what keeps a serialized chain from throttling concurrent reads (docs/audit.md, "Throughput").
 *
 * With a tenant handle of a transaction, the event is appended in it and commits or rolls back with its change.
 */
@Injectable()
export class TrailWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('TrailWriter');
  private readonly queues = new Map<string, OrganizationQueue>();
  /** Audited requests of each organization that are running and have not handed in their event yet. */
  private readonly running = new Map<string, number>();
  /** See AUDIT_COALESCE_MS (tests set 0 or more). */
  coalesceMs = AUDIT_COALESCE_MS;

  constructor(
    private readonly repository: TrailRepository,
    /** The batch appends: one autocommit statement each, on the organization's handle (TenantDb.statements). */
    private readonly tenantDb: TenantDb,
  ) {}

  /**
   * Shutdown, before the pool closes: every event handed in is committed (or its caller told it failed) before
   * the process goes on: the batches waiting for their coalescing timer go at once, and this waits for them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Resolves once no event is waiting or being written (at most `timeoutMs`). */
  async flush(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [organizationId, queue] of this.queues) if (queue.timer && !queue.flushing) void this.drain(organizationId, queue);
    while (this.queues.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * An audited request of `organizationId` started: while it runs, a batch of that organization waits up to
   * `coalesceMs` for its event, so that concurrent requests share one commit (each commit costs the database a
   * WAL flush; one request alone never waits). Returns the release, called once its event is handed in or it ended
   * without one (idempotent).
   */
  begin(organizationId: string): () => void {
    this.running.set(organizationId, (this.running.get(organizationId) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.running.get(organizationId) ?? 1) - 1;
      if (n > 0) this.running.set(organizationId, n);
      else this.running.delete(organizationId);
      const queue = this.queues.get(organizationId);
      // The last running request is in: the waiting batch goes now (drain stops the timer).
      if (n <= 0 && queue?.timer) void this.drain(organizationId, queue);
    };
  }

  /**
   * Appends one event; resolves with its sequence number once committed. Throws AuditWriteError. `release`: the
   * request's `begin` release, called once the event is queued (the batch need not wait for it any more).
   */
  append(event: AuditEventContent, db?: TenantSql, release?: () => void): Promise<number> {
    if (db) {
      release?.();
      return this.appendInTransaction(event, db);
    }
    return this.enqueue(event, release);
  }

  private async appendInTransaction(event: AuditEventContent, db: TenantSql): Promise<number> {
    try {
      return await this.repository.append(db, event, contentHash(event));
    } catch (err) {
      this.logger.error({ err: loggableError(err) }, 'audit event not written');
      throw new AuditWriteError(err);
    }
  }

  private enqueue(event: AuditEventContent, release?: () => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const organizationId = event.organizationId;
      let queue = this.queues.get(organizationId);
      if (!queue) {
        queue = { pending: [], flushing: false, timer: null };
        this.queues.set(organizationId, queue);
      }
      queue.pending.push({ event, resolve, reject });
      release?.(); // may start the drain: this event is in the queue already
      if (queue.flushing || queue.timer) return; // its event goes with that batch, or with the next
      if (this.coalesceMs > 0 && (this.running.get(organizationId) ?? 0) > 0) {
        const q = queue;
        q.timer = setTimeout(() => {
          q.timer = null;
          if (!q.flushing) void this.drain(organizationId, q);
        }, this.coalesceMs);
        q.timer.unref(); // a few ms at most; never what keeps a stopping process alive
        return;
      }
      void this.drain(organizationId, queue);
    });
  }

  private async drain(organizationId: string, queue: OrganizationQueue): Promise<void> {
    if (queue.flushing) return;
    if (queue.timer) {
      clearTimeout(queue.timer);
      queue.timer = null;
    }
    queue.flushing = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_AUDIT_BATCH);
        try {
          const events = batch.map((p) => ({ content: p.event, contentHash: contentHash(p.event) }));
          const seqs = await this.tenantDb.statements(organizationId, (db) => this.repository.appendBatch(db, events));
          batch.forEach((p, i) => p.resolve(seqs[i]));
        } catch (err) {
          if (isUnknownOrganization(err) && organizationId !== NO_ORGANIZATION) {
            // Denied calls naming an organization that does not exist: filed in the no-organization chain.
            for (const p of batch) this.enqueue({ ...p.event, organizationId: NO_ORGANIZATION }).then(p.resolve, p.reject);
            continue;
          }
          this.logger.error({ err: loggableError(err), events: batch.length }, 'audit events not written');
          const failure = new AuditWriteError(err);
          for (const p of batch) p.reject(failure);
        }
      }
    } finally {
      queue.flushing = false;
      if (queue.pending.length === 0) {
        if (!queue.timer) this.queues.delete(organizationId);
      } else void this.drain(organizationId, queue);
    }
  }
}
