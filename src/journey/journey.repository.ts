import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';

export interface JourneyRow {
  registered_at: Date;
  visits: string[];
  plans_completed: string[];
  events: { at: string; stage: string; outcome: string | null }[];
  enrollment: {
    sequence: string;
    step: string;
    step_index: number;
    total_steps: number;
    next_action: string | null;
    next_action_at: string | null;
  } | null;
  touchpoints: { id: string; type: string; at: string; outcome: string; notes: string | null }[];
}

/**
 * The journey of one patient in one statement (one round trip): every part is an index range scan on
 * `(organization_id, patient_id, <time>)`; the touchpoints take at most `limit` rows from each source before merging.
 * Plan in docs/queries/journey.md. Every part compares the organization with UNSEEN_ORGANIZATION (a read of one
 * patient's records): given the value, a clinic the statistics did not know yet was planned for one row, and its
 * patient, treatment plans, events and enrollments were found through the `(organization_id, source, external_id)`
 * indexes, all the clinic's rows read for one patient (3,864 buffers and 2.2 ms a journey of a 5,000-patient clinic
 * that joined through the ingestion, 30 and 0.15 ms unseen; the million-patient clinic's plan is the same either way).
 */
export const JOURNEY_SQL = `
SELECT p.registered_at,
  (SELECT coalesce(json_agg(a.starts_at ORDER BY a.starts_at), '[]')
     FROM appointments a
    WHERE a.organization_id = ${UNSEEN_ORGANIZATION} AND a.patient_id = $2 AND a.status = 'completed' AND a.starts_at <= $3) AS visits,
  (SELECT coalesce(json_agg(coalesce(t.ends_at, t.updated_at)), '[]')
     FROM treatment_plans t
    WHERE t.organization_id = ${UNSEEN_ORGANIZATION} AND t.patient_id = $2 AND t.status = 'completed'
      AND coalesce(t.ends_at, t.updated_at) <= $3) AS plans_completed,
  (SELECT coalesce(json_agg(json_build_object('at', e.occurred_at, 'stage', e.stage, 'outcome', e.outcome) ORDER BY e.occurred_at), '[]')
     FROM journey_events e
    WHERE e.organization_id = ${UNSEEN_ORGANIZATION} AND e.patient_id = $2 AND e.occurred_at <= $3) AS events,
  (SELECT row_to_json(x) FROM (
     SELECT s.sequence, s.step, s.step_index, s.total_steps, s.next_action, s.next_action_at
       FROM automation_enrollments s
      WHERE s.organization_id = ${UNSEEN_ORGANIZATION} AND s.patient_id = $2 AND s.status IN ('active', 'paused')
      ORDER BY s.status = 'active' DESC, s.enrolled_at DESC, s.id
      LIMIT 1) x) AS enrollment,
  (SELECT coalesce(json_agg(json_build_object('id', tp.id, 'type', tp.type, 'at', tp.at, 'outcome', tp.outcome, 'notes', tp.notes) ORDER BY tp.at DESC, tp.id), '[]')
     FROM (
       SELECT * FROM (
         (SELECT 'appointment'::text AS type, a.starts_at AS at, a.status::text AS outcome, a.notes_enc AS notes, a.id
            FROM appointments a
           WHERE a.organization_id = ${UNSEEN_ORGANIZATION} AND a.patient_id = $2 AND a.starts_at <= $3
           ORDER BY a.starts_at DESC LIMIT $4)
         UNION ALL
         (SELECT c.kind::text, c.occurred_at,
                 coalesce(c.outcome, CASE WHEN c.responded_at IS NOT NULL THEN 'responded'
                                          WHEN c.direction = 'inbound' THEN 'received' ELSE 'sent' END),
                 c.notes_enc, c.id
            FROM communications c
           WHERE c.organization_id = ${UNSEEN_ORGANIZATION} AND c.patient_id = $2 AND c.occurred_at <= $3
           ORDER BY c.occurred_at DESC LIMIT $4)
       ) u ORDER BY u.at DESC, u.id LIMIT $4) tp) AS touchpoints
FROM patients p
WHERE p.organization_id = ${UNSEEN_ORGANIZATION} AND p.id = $2 AND p.deleted_at IS NULL`;

/**
 * The name JOURNEY_SQL is prepared under in a `prepared` unit (TenantDb.statements): its generic plan is the plan of
 * every organization (the organization unseen in every part, the patient a parameter), so the server plans it once per
 * connection instead of on every request.
 */
export const JOURNEY_STATEMENT = 'journey';

@Injectable()
export class JourneyRepository {
  /** null when the organization has no such (non-deleted) patient. Prepared in a `prepared` unit (JOURNEY_STATEMENT). */
  async find(db: TenantSql, patientId: string, now: Date, touchpointLimit: number): Promise<JourneyRow | null> {
    const rows = await db.query<JourneyRow>(JOURNEY_SQL, [db.organizationId, patientId, now, touchpointLimit], {
      prepare: JOURNEY_STATEMENT,
    });
    return rows[0] ?? null;
  }
}
