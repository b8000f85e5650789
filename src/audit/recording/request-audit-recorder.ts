import { HttpStatus, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { AuditAction } from 'src/audit/trail/audit-action';
import { normalizePatientIds } from 'src/audit/trail/audit-event';
import { AuditedOptions } from 'src/audit/recording/audited.decorator';
import { AuditableRequest, auditState, eventFor, outcomeFor, pathPatientIds } from 'src/audit/recording/request-audit-state';
import { TrailWriter } from 'src/audit/trail/trail-writer';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

export const AUDIT_UNAVAILABLE_DETAIL = 'The audit trail could not record this request, so no patient data was sent; retry shortly';

export function auditUnavailable(): ProblemException {
  return new ProblemException(ProblemCode.AuditUnavailable, HttpStatus.SERVICE_UNAVAILABLE, AUDIT_UNAVAILABLE_DETAIL, undefined, { 'retry-after': '5' });
}

/**
 * What a route that changes patient data (`@Audited({ ..., writesOwnAudit: true })`) uses to record its change
 * in the same transaction: get it with `@RequestAuditor() audit: RequestAudit` and pass it to the service.
 */
export class RequestAudit {
  constructor(
    private readonly recorder: RequestAuditRecorder,
    private readonly request: AuditableRequest,
    private readonly reply: FastifyReply,
    private readonly options: AuditedOptions,
  ) {}

  /**
   * Appends one event for this request inside the transaction of `db` (TenantDb.transaction): it commits or rolls back
   * with the change. Call it last in the transaction: from here to the commit the organization's audit chain is
   * locked. When the event cannot be written it throws the 503 ProblemException: let it end the transaction.
   */
  async record(db: TenantSql, event: { action: AuditAction; patientIds: string[]; resource?: string }): Promise<void> {
    await this.recorder.appendOr503(
      this.request,
      {
        action: event.action,
        resource: event.resource ?? this.options.resource,
        patientIds: [...pathPatientIds(this.request, this.options), ...event.patientIds],
        outcome: 'success',
        statusCode: this.reply.statusCode,
      },
      db,
    );
  }
}

/** Builds events from requests and appends them; the interceptor, the onSend hook and RequestAudit share it. */
@Injectable()
export class RequestAuditRecorder {
  constructor(
    private readonly writer: TrailWriter,
    private readonly clock: Clock,
  ) {}

  async append(
    request: AuditableRequest,
    fields: Parameters<typeof eventFor>[2],
    db?: TenantSql,
  ): Promise<void> {
    const state = auditState(request);
    try {
      await this.writer.append(eventFor(request, this.clock.now(), fields), db, state.release);
      state.recorded++;
    } catch (err) {
      state.failed = true;
      throw err;
    }
  }

  async appendOr503(request: AuditableRequest, fields: Parameters<typeof eventFor>[2], db?: TenantSql): Promise<void> {
    try {
      await this.append(request, fields, db);
    } catch {
      throw auditUnavailable();
    }
  }

  /**
   * A `recordsEarly` route names the patients its answer will carry before it builds the answer: their success event
   * is appended now, and recordSuccess waits for it. Only the first call of a request records; later ones are
   * ignored (recordSuccess adds any patient of the body that the first did not name).
   */
  recordEarly(request: AuditableRequest, reply: FastifyReply, options: AuditedOptions, patientIds: readonly string[]): void {
    const state = auditState(request);
    if (state.early || state.failed) return;
    const ids = [...pathPatientIds(request, options), ...patientIds];
    const written = this.append(request, { action: options.action, resource: options.resource, patientIds: ids, outcome: 'success', statusCode: reply.statusCode });
    // Awaited by recordSuccess; if the handler fails first, the rejection (the append marked the request failed) is
    // not left unhandled.
    written.catch(() => undefined);
    // The ids as given (a page's, canonical from the database): recordSuccess compares the body's with them first.
    state.early = { patientIds: new Set(ids), written };
  }

  /** After the handler (or a cache) produced `body`: records who saw which patients, or throws the 503. */
  async recordSuccess(request: AuditableRequest, reply: FastifyReply, options: AuditedOptions, body: unknown): Promise<void> {
    const state = auditState(request);
    if (options.writesOwnAudit && state.recorded > 0) return;
    try {
      let patientIds = [...pathPatientIds(request, options), ...(options.patientIds && body !== undefined ? options.patientIds(body) : [])];
      if (state.early) {
        await state.early.written;
        const named = state.early.patientIds;
        // Every patient of the body was in the early event (the route names its page's patients): nothing more. An id
        // not found as it is is looked up canonical (as the event stored it) before it counts as unnamed.
        const unnamed = patientIds.filter((id) => !named.has(id));
        if (unnamed.length === 0) return;
        const stored = new Set(normalizePatientIds(named));
        patientIds = normalizePatientIds(unnamed).filter((id) => !stored.has(id));
        if (patientIds.length === 0) return;
      }
      await this.append(request, { action: options.action, resource: options.resource, patientIds, outcome: 'success', statusCode: reply.statusCode });
    } catch {
      // Also when the route's patientIds() throws: not knowing whose data leaves is as bad as not recording it.
      state.failed = true;
      throw auditUnavailable();
    }
  }

  /**
   * Whether a finished request still needs an event from `recordFinished` (synchronous: the onSend hook asks it first,
   * so that a request the interceptor recorded costs no promise there).
   */
  finishedNeedsEvent(request: AuditableRequest, statusCode: number): boolean {
    const state = auditState(request);
    // An error answer is recorded even when the route recorded its change: that record rolled back with it.
    if (state.failed || (state.recorded > 0 && statusCode < 400)) return false;
    // A rate-limited call reached no data and was refused before access control: recording each one would let a
    // flood write to the trail as fast as it is refused.
    return statusCode !== 429;
  }

  /**
   * A finished request the interceptor did not record (a guard refused it, the handler threw, or something short-
   * circuited before the interceptor). Returns false when the event could not be written.
   */
  async recordFinished(request: AuditableRequest, statusCode: number, options: AuditedOptions, payload: unknown): Promise<boolean> {
    if (!this.finishedNeedsEvent(request, statusCode)) return true;
    const { action, outcome } = outcomeFor(statusCode, options.action);
    const patientIds = pathPatientIds(request, options);
    if (outcome === 'success' && options.patientIds && typeof payload === 'string') {
      try {
        patientIds.push(...options.patientIds(JSON.parse(payload)));
      } catch {
        return false;
      }
    }
    try {
      await this.append(request, { action, resource: options.resource, patientIds, outcome, statusCode });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The request is running an audited route of its organization: batches of that organization may wait a moment
   * for its event (TrailWriter.begin). Returns the release (also called when its event is appended).
   */
  begin(request: AuditableRequest): () => void {
    const organizationId = request.auth?.organizationId;
    if (!organizationId) return () => undefined;
    const state = auditState(request);
    state.release ??= this.writer.begin(organizationId);
    return state.release;
  }

  /** The RequestAudit handed to a `writesOwnAudit` route. */
  forRequest(request: AuditableRequest, reply: FastifyReply, options: AuditedOptions): RequestAudit {
    return new RequestAudit(this, request, reply, options);
  }
}
