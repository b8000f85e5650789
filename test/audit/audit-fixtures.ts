import { randomUUID } from 'node:crypto';
import { AuditAction } from 'src/audit/trail/audit-action';
import type { AuditEventContent } from 'src/audit/trail/audit-event';
import type { TestDatabase } from 'test/utils/test-database';

export type EventRow = {
  organization_id: string;
  seq: string;
  id: string;
  occurred_at: Date;
  action: string;
  resource: string;
  outcome: string;
  status_code: number;
  patient_ids: string[];
  actor_id: string | null;
  actor_type: string | null;
  actor_role: string | null;
  route: string;
  method: string;
  query: Record<string, unknown>;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
};

export const NIL_ORG = '00000000-0000-0000-0000-000000000000';

/** An organization's raw audit rows in chain order, read as the owner. */
export function auditRows(db: TestDatabase, organizationId: string): Promise<EventRow[]> {
  return db.query<EventRow>(`SELECT * FROM audit_events WHERE organization_id = $1 ORDER BY seq`, [organizationId]);
}

/** Patients with a name and an (encrypted-looking) email: the PHI that must never reach the trail. */
export async function addPatients(db: TestDatabase, organizationId: string, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, name] of names.entries()) {
    const rows = await db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name, email_enc) VALUES ($1, 'test', $2, $3, 'v1:cipher') RETURNING id`,
      [organizationId, `p-${i}-${name.replace(/\W/g, '')}`, name],
    );
    ids.push(rows[0].id);
  }
  return ids;
}

/** Patients the real profile routes can serve: no encrypted columns, and a patient_metrics row each. */
export async function addScoredPatients(db: TestDatabase, organizationId: string, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, name] of names.entries()) {
    const rows = await db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', $2, $3) RETURNING id`,
      [organizationId, `s-${i}`, name],
    );
    await db.query(
      `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level, risk_score, stale, computed_at)
       VALUES ($1, $2, lower($3), 'active', 'low', 0.1, false, now())`,
      [organizationId, rows[0].id, name],
    );
    ids.push(rows[0].id);
  }
  return ids;
}

/** A clinician's read of one patient's profile at `occurredAt`, as the trail stores it (for tests that age the trail). */
export function profileReadEvent(organizationId: string, occurredAt: Date): AuditEventContent {
  return {
    organizationId,
    id: randomUUID(),
    occurredAt,
    actorType: 'user',
    actorId: randomUUID(),
    actorRole: 'clinician',
    action: AuditAction.Read,
    resource: 'patient',
    method: 'GET',
    route: '/api/v1/patients/:organizationId/profile/:patientId',
    patientIds: [randomUUID()],
    query: {},
    outcome: 'success',
    statusCode: 200,
    requestId: null,
    ip: '10.0.0.1',
    userAgent: 'test',
  };
}
