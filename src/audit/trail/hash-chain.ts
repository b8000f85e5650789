import { createHash } from 'node:crypto';
import { AuditEventContent, AuditEventRow } from 'src/audit/trail/audit-event';

/** The previous hash of an organization's first event. */
export const GENESIS_HASH = Buffer.alloc(32);

/** Serialization version, first element of the canonical form: bump it (and keep the old one) to change the form. */
const CANONICAL_VERSION = 1;

function sortedQuery(query: Record<string, string | string[]>): [string, string | string[]][] {
  return Object.keys(query)
    .sort()
    .map((k) => [k, query[k]]);
}

/**
 * The canonical serialization of an event's content: a JSON array in a fixed order, values normalized the way
 * PostgreSQL gives them back (UUIDs lower case, time to the millisecond in ISO form, query keys sorted), so that
 * the writer and the verifier hash the same bytes.
 */
export function canonicalContent(e: AuditEventContent): string {
  return JSON.stringify([
    CANONICAL_VERSION,
    e.organizationId.toLowerCase(),
    e.id.toLowerCase(),
    e.occurredAt.toISOString(),
    e.actorType,
    e.actorId === null ? null : e.actorId.toLowerCase(),
    e.actorRole,
    e.action,
    e.resource,
    e.method,
    e.route,
    e.patientIds.map((p) => p.toLowerCase()),
    sortedQuery(e.query),
    e.outcome,
    e.statusCode,
    e.requestId,
    e.ip,
    e.userAgent,
  ]);
}

export function contentHash(e: AuditEventContent): Buffer {
  return createHash('sha256').update(canonicalContent(e), 'utf8').digest();
}

/** `sha256(prev_hash || int8(seq) || content_hash)`: what audit_append() computes in SQL. */
export function chainHash(prevHash: Buffer, seq: number, content: Buffer): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigInt64BE(BigInt(seq));
  return createHash('sha256').update(Buffer.concat([prevHash, seqBytes, content])).digest();
}

export type ChainBreakReason = 'content_altered' | 'prev_hash_mismatch' | 'sequence_gap' | 'events_missing_at_end';

export interface ChainBreak {
  id: string | null;
  occurredAt: Date | null;
  seq: number;
  reason: ChainBreakReason;
}

export interface ChainVerdict {
  valid: boolean;
  eventsChecked: number;
  firstBroken: ChainBreak | null;
}

/**
 * Walks one organization's events in sequence order and reports the first that does not follow from the one
 * before: a changed column (its hash no longer matches), a changed or removed predecessor (prev_hash or seq),
 * or rows removed from the end (the chain head says there were more).
 */
export class ChainVerifier {
  private expectedSeq: number;
  private prevHash: Buffer;
  private checked = 0;
  private broken: ChainBreak | null = null;

  /**
   * `start`: the last retired event (its sequence number and hash, as audit_retirements records them), when the
   * chain's oldest events were archived and retired; verification then starts from the first kept event.
   */
  constructor(start: { seq: number; hash: Buffer } | null = null) {
    this.expectedSeq = start ? start.seq + 1 : 1;
    this.prevHash = start ? start.hash : GENESIS_HASH;
  }

  /** Returns false once the chain is broken (the caller may stop feeding rows). */
  push(row: AuditEventRow): boolean {
    if (this.broken) return false;
    this.checked++;
    const at = { id: row.id, occurredAt: row.occurredAt, seq: row.seq };
    if (row.seq !== this.expectedSeq) {
      this.broken = { ...at, reason: 'sequence_gap' };
    } else if (!row.prevHash.equals(this.prevHash)) {
      this.broken = { ...at, reason: 'prev_hash_mismatch' };
    } else if (!chainHash(row.prevHash, row.seq, contentHash(row)).equals(row.hash)) {
      this.broken = { ...at, reason: 'content_altered' };
    }
    if (this.broken) return false;
    this.expectedSeq = row.seq + 1;
    this.prevHash = row.hash;
    return true;
  }

  /** The verdict, given the chain head (null: no event was ever appended for the organization). */
  finish(head: { lastSeq: number; lastHash: Buffer } | null): ChainVerdict {
    if (!this.broken && head && (head.lastSeq !== this.expectedSeq - 1 || !head.lastHash.equals(this.prevHash))) {
      this.broken = { id: null, occurredAt: null, seq: this.expectedSeq, reason: 'events_missing_at_end' };
    }
    return { valid: this.broken === null, eventsChecked: this.checked, firstBroken: this.broken };
  }
}
