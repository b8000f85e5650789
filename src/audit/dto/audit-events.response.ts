import type { AuditEventRow } from 'src/audit/trail/audit-event';
import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_ACTIONS, AuditAction } from 'src/audit/trail/audit-action';

export class AuditEventResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;
  /** Position in the organization's hash chain (1, 2, 3...). */
  @ApiProperty({ type: 'integer' })
  sequence: number;
  @ApiProperty({ type: String, format: 'date-time' })
  occurred_at: string;
  @ApiProperty({ enum: ['user', 'api_key'], nullable: true })
  actor_type: 'user' | 'api_key' | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  actor_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  actor_role: string | null;
  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction' })
  action: AuditAction;
  /** The kind of record the route serves (`patient`, `journey`...). */
  resource: string;
  method: string;
  /** The route pattern, e.g. `/api/v1/patients/:organizationId/profile/:patientId`. */
  route: string;
  /** Every patient whose data the response carried (or the one the request named). */
  @ApiProperty({ type: [String], format: 'uuid' })
  patient_ids: string[];
  /** Query parameters; values that may be PHI are `[REDACTED]`. */
  @ApiProperty({ type: 'object', additionalProperties: true })
  query: Record<string, string | string[]>;
  @ApiProperty({ enum: ['success', 'denied', 'failure'] })
  outcome: 'success' | 'denied' | 'failure';
  @ApiProperty({ type: 'integer' })
  status_code: number;
  @ApiProperty({ type: String, nullable: true })
  request_id: string | null;
  @ApiProperty({ type: String, nullable: true })
  ip: string | null;
  @ApiProperty({ type: String, nullable: true })
  user_agent: string | null;
  /** SHA-256 of the previous event's hash, this event's sequence number and its content (hex). */
  hash: string;
  prev_hash: string;
}

export class AuditEventsResponse {
  events: AuditEventResponse[];
  @ApiProperty({ type: String, nullable: true })
  next_cursor: string | null;
}

export class ChainBreakResponse {
  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  occurred_at: string | null;
  @ApiProperty({ type: 'integer' })
  sequence: number;
  @ApiProperty({ enum: ['content_altered', 'prev_hash_mismatch', 'sequence_gap', 'events_missing_at_end'] })
  reason: string;
}

export class AuditVerifyResponse {
  valid: boolean;
  @ApiProperty({ type: 'integer' })
  events_checked: number;
  @ApiProperty({ type: ChainBreakResponse, nullable: true })
  first_broken: ChainBreakResponse | null;
}

/** One stored event as the API shows it (and as an audit archive keeps it, with its organization). */
export function toAuditEventResponse(e: AuditEventRow): AuditEventResponse {
  return {
    id: e.id,
    sequence: e.seq,
    occurred_at: e.occurredAt.toISOString(),
    actor_type: e.actorType,
    actor_id: e.actorId,
    actor_role: e.actorRole,
    action: e.action,
    resource: e.resource,
    method: e.method,
    route: e.route,
    patient_ids: e.patientIds,
    query: e.query,
    outcome: e.outcome,
    status_code: e.statusCode,
    request_id: e.requestId,
    ip: e.ip,
    user_agent: e.userAgent,
    hash: e.hash.toString('hex'),
    prev_hash: e.prevHash.toString('hex'),
  };
}
