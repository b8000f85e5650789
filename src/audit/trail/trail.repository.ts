import { Injectable } from '@nestjs/common';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuditActorType, AuditEventContent, AuditEventRow, AuditOutcome } from 'src/audit/trail/audit-event';
import type { CrossTenantSql } from 'src/database/cross-tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** An event must go to the chain of the handle's organization. */
function sameOrganization(db: TenantSql, organizationId: string): void {
  if (organizationId.toLowerCase() !== db.organizationId) throw new Error('An audit event must be appended on its own organization\'s handle');
}

export interface AuditEventFilter {
  patientId?: string;
  actorId?: string;
  action?: AuditAction;
  from?: Date;
  to?: Date;
  /** Keyset: only events with a smaller sequence number (newest first). */
  beforeSeq?: number;
}

interface RawRow {
  organization_id: string;
  seq: string;
  occurred_at: Date;
  id: string;
  actor_type: AuditActorType | null;
  actor_id: string | null;
  actor_role: string | null;
  action: AuditAction;
  resource: string;
  method: string;
  route: string;
  patient_ids: string[];
  query: Record<string, string | string[]>;
  outcome: AuditOutcome;
  status_code: number;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

const COLUMNS = `organization_id, seq, occurred_at, id, actor_type, actor_id, actor_role, action, resource, method, route,
  patient_ids, query, outcome, status_code, request_id, ip, user_agent, prev_hash, hash`;

function toRow(r: RawRow): AuditEventRow {
  return {
    organizationId: r.organization_id,
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    id: r.id,
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorRole: r.actor_role,
    action: r.action,
    resource: r.resource,
    method: r.method,
    route: r.route,
    patientIds: r.patient_ids,
    query: r.query,
    outcome: r.outcome,
    statusCode: r.status_code,
    requestId: r.request_id,
    ip: r.ip,
    userAgent: r.user_agent,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Every SQL statement of the audit trail. Appends go through audit_append() (the app role has no INSERT on the
 * table); reads run on the organization's tenant handle, where row-level security applies too.
 */
@Injectable()
export class TrailRepository {
  /** Appends one event to its organization's chain; returns its sequence number. */
  async append(db: TenantSql, e: AuditEventContent, contentHash: Buffer): Promise<number> {
    sameOrganization(db, e.organizationId);
    const rows = await db.query<{ seq: string }>(
      `SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::uuid[], $12::jsonb, $13, $14, $15, $16, $17, $18) AS seq`,
      [
        e.organizationId, e.id, e.occurredAt, e.actorType, e.actorId, e.actorRole, e.action, e.resource, e.method, e.route,
        e.patientIds, JSON.stringify(e.query), e.outcome, e.statusCode, e.requestId, e.ip, e.userAgent, contentHash,
      ],
    );
    return Number(rows[0].seq);
  }

  /**
   * Appends several events of one organization with audit_append_batch(): one statement (so one transaction and
   * one disk flush when run on the pool), one hold of the chain's lock for the lot. Returns their sequence
   * numbers, in order.
   */
  async appendBatch(db: TenantSql, events: { content: AuditEventContent; contentHash: Buffer }[]): Promise<number[]> {
    if (events.length === 0) return [];
    const organizationId = events[0].content.organizationId;
    for (const e of events) sameOrganization(db, e.content.organizationId);
    const col = <T>(f: (e: AuditEventContent) => T): T[] => events.map((x) => f(x.content));
    const rows = await db.query<{ first: string }>(
      `SELECT audit_append_batch($1, $2::uuid[], $3::timestamptz[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
              $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::text[], $17::text[], $18::bytea[]) AS first`,
      [
        organizationId, col((e) => e.id), col((e) => e.occurredAt), col((e) => e.actorType), col((e) => e.actorId),
        col((e) => e.actorRole), col((e) => e.action), col((e) => e.resource), col((e) => e.method), col((e) => e.route),
        col((e) => `{${e.patientIds.join(',')}}`), col((e) => JSON.stringify(e.query)), col((e) => e.outcome), col((e) => e.statusCode),
        col((e) => e.requestId), col((e) => e.ip), col((e) => e.userAgent), events.map((x) => x.contentHash),
      ],
    );
    const first = Number(rows[0].first);
    return events.map((_, i) => first + i);
  }

  /** Creates the monthly partitions from `from`'s month to `months` months after it; returns how many were new. */
  async ensurePartitions(sql: CrossTenantSql, from: Date, months: number): Promise<number> {
    const rows = await sql.query<{ created: number }>(`SELECT audit_ensure_partitions($1, $2) AS created`, [from, months]);
    return rows[0].created;
  }

  /** One page of an organization's events, newest first. */
  async list(db: TenantSql, f: AuditEventFilter, limit: number): Promise<AuditEventRow[]> {
    const where = ['organization_id = $1'];
    const params: unknown[] = [db.organizationId];
    const add = (clause: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (f.patientId) add((p) => `patient_ids @> ARRAY[${p}]::uuid[]`, f.patientId);
    if (f.actorId) add((p) => `actor_id = ${p}`, f.actorId);
    if (f.action) add((p) => `action = ${p}`, f.action);
    if (f.from) add((p) => `occurred_at >= ${p}`, f.from);
    if (f.to) add((p) => `occurred_at < ${p}`, f.to);
    if (f.beforeSeq !== undefined) add((p) => `seq < ${p}`, f.beforeSeq);
    params.push(limit);
    const rows = await db.query<RawRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRow);
  }

  /** Events in chain order with `afterSeq < seq <= maxSeq`, for the verifier. */
  async chainPage(db: TenantSql, afterSeq: number, maxSeq: number, limit: number): Promise<AuditEventRow[]> {
    const rows = await db.query<RawRow>(
      `SELECT ${COLUMNS} FROM audit_events WHERE organization_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
      [db.organizationId, afterSeq, maxSeq, limit],
    );
    return rows.map(toRow);
  }

  /**
   * The latest retirement of the organization's oldest events (src/privacy/retention: archived, then deleted by
   * audit_retire()): the last retired sequence number and its hash, where verification starts. Null: none retired.
   */
  async retiredThrough(db: TenantSql): Promise<{ seq: number; hash: Buffer } | null> {
    const rows = await db.query<{ last_seq: string; last_hash: Buffer }>(
      `SELECT last_seq, last_hash FROM audit_retirements WHERE organization_id = $1 ORDER BY last_seq DESC LIMIT 1`,
      [db.organizationId],
    );
    return rows.length === 0 ? null : { seq: Number(rows[0].last_seq), hash: rows[0].last_hash };
  }

  async head(db: TenantSql): Promise<{ lastSeq: number; lastHash: Buffer } | null> {
    const rows = await db.query<{ last_seq: string; last_hash: Buffer }>(
      `SELECT last_seq, last_hash FROM audit_chain_heads WHERE organization_id = $1`,
      [db.organizationId],
    );
    return rows.length === 0 ? null : { lastSeq: Number(rows[0].last_seq), lastHash: rows[0].last_hash };
  }
}
