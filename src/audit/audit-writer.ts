import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { contentHash } from 'src/audit/audit-chain';
import { AuditEventContent, NO_ORGANIZATION } from 'src/audit/audit-event';
import { AuditRepository } from 'src/audit/audit.repository';
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
}

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
 * With a manager, the event is appended in the caller's transaction and commits or rolls back with its change.
 */
@Injectable()
export class AuditWriter {
  private readonly logger = new Logger('AuditWriter');
  private readonly queues = new Map<string, OrganizationQueue>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly dataSource: DataSource,
  ) {}

  /** Appends one event; resolves with its sequence number once committed. Throws AuditWriteError. */
  append(event: AuditEventContent, manager?: EntityManager): Promise<number> {
    return manager ? this.appendInTransaction(event, manager) : this.enqueue(event);
  }

  private async appendInTransaction(event: AuditEventContent, manager: EntityManager): Promise<number> {
    try {
      return await this.repository.append(manager, event, contentHash(event));
    } catch (err) {
      this.logger.error({ err: loggableError(err) }, 'audit event not written');
      throw new AuditWriteError(err);
    }
  }

  private enqueue(event: AuditEventContent): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let queue = this.queues.get(event.organizationId);
      if (!queue) {
        queue = { pending: [], flushing: false };
        this.queues.set(event.organizationId, queue);
      }
      queue.pending.push({ event, resolve, reject });
      if (!queue.flushing) void this.drain(event.organizationId, queue);
    });
  }

  private async drain(organizationId: string, queue: OrganizationQueue): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.pending.length > 0) {
        const batch = queue.pending.splice(0, MAX_AUDIT_BATCH);
        try {
          const seqs = await this.repository.appendBatch(
            this.dataSource,
            batch.map((p) => ({ content: p.event, contentHash: contentHash(p.event) })),
          );
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
      if (queue.pending.length === 0) this.queues.delete(organizationId);
      else void this.drain(organizationId, queue);
    }
  }
}
