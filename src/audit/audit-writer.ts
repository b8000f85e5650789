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

/**
 * Appends events to the audit trail. Without a manager the event is its own transaction, committed (and flushed)
 * before `append` resolves; with one it commits or rolls back with the caller's change.
 */
@Injectable()
export class AuditWriter {
  private readonly logger = new Logger('AuditWriter');

  constructor(
    private readonly repository: AuditRepository,
    private readonly dataSource: DataSource,
  ) {}

  /** Appends one event; returns its sequence number in its organization's chain. Throws AuditWriteError. */
  async append(event: AuditEventContent, manager?: EntityManager): Promise<number> {
    try {
      return await this.repository.append(manager ?? this.dataSource, event, contentHash(event));
    } catch (err) {
      // A denied call naming an organization that does not exist: filed in the no-organization chain. (Inside a
      // caller's transaction the organization exists, and the failed statement has aborted it anyway.)
      if (!manager && (err as { code?: unknown }).code === UNKNOWN_ORGANIZATION && event.organizationId !== NO_ORGANIZATION) {
        return this.append({ ...event, organizationId: NO_ORGANIZATION });
      }
      this.logger.error({ err: loggableError(err) }, 'audit event not written');
      throw new AuditWriteError(err);
    }
  }
}
