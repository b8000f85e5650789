import { AuditAction } from 'src/audit/trail/audit-action';

export type AuditOutcome = 'success' | 'denied' | 'failure';
export type AuditActorType = 'user' | 'api_key';

/** The chain for events whose organization is unknown (a denied call naming no real organization). */
export const NO_ORGANIZATION = '00000000-0000-0000-0000-000000000000';

/** What one audit event says, as the writer appends it (no chain fields: the database assigns those). */
export interface AuditEventContent {
  organizationId: string;
  id: string;
  occurredAt: Date;
  actorType: AuditActorType | null;
  actorId: string | null;
  actorRole: string | null;
  action: AuditAction;
  resource: string;
  method: string;
  route: string;
  /** Lower-case UUIDs, in the order the response carried them, without repeats. */
  patientIds: string[];
  /** Query parameters with PHI removed (src/audit/recording/query-sanitizer.ts). */
  query: Record<string, string | string[]>;
  outcome: AuditOutcome;
  statusCode: number;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** A stored event: its content plus its place in the organization's chain. */
export interface AuditEventRow extends AuditEventContent {
  seq: number;
  prevHash: Buffer;
  hash: Buffer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Patient ids as stored: UUIDs only, lower case, first occurrence kept. */
export function normalizePatientIds(ids: Iterable<unknown>): string[] {
  const out = new Set<string>();
  for (const id of ids) if (isUuid(id)) out.add(id.toLowerCase());
  return [...out];
}
