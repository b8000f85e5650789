import { identifierPlace, PatientIdentifierValue } from 'src/records/identifiers/patient-identifiers';
import type { PatientKeys } from 'src/records/phi/phi-keyring-core';
import { PhiReader } from 'src/records/phi/phi-reader';
import type { ExportTable } from 'src/privacy/export/export-records.repository';

/**
 * One stored record in the project's own snake_case shape (the `?format=json` export and the input of the FHIR
 * mapping): PHI decrypted, money in currency units, times as ISO 8601 UTC. The shapes are documented in
 * docs/privacy.md ("The project's JSON shape").
 */
export type ExportRecord = Record<string, unknown>;

const iso = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
};
const units = (cents: unknown): number => Math.round(Number(cents ?? 0)) / 100;
const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/**
 * A stored row of `kind` as an export record; `keys` (of the row's patient, PhiKeyring.keysFor) decrypt the PHI
 * columns, each bound to its place. A value that does not decrypt is exported as null (and logged without PHI).
 */
export function toExportRecord(kind: ExportTable, row: Record<string, unknown>, keys: PatientKeys, organizationId: string): ExportRecord {
  const phi = new PhiReader(keys.get(String(kind === 'patients' ? row.id : row.patient_id)), organizationId);
  const at = (column: string): { table: string; column: string; row: string } => ({ table: kind, column, row: String(row.id) });
  const dec = (column: string): string | null => phi.text(text(row[column]), at(column));
  const json = <T>(column: string): T | null => phi.json<T>(text(row[column]), at(column));
  const sourced = { id: row.id, source: row.source, external_id: row.external_id };
  const changed = { updated_at: iso(row.updated_at) };
  switch (kind) {
    case 'patients': {
      const address = json<Record<string, string | null>>('address_enc');
      return {
        ...sourced,
        name: row.name,
        phone: dec('phone_enc'),
        email: dec('email_enc'),
        date_of_birth: dec('date_of_birth_enc'),
        address: address
          ? { street: address.street ?? null, city: address.city ?? null, state: address.state ?? null, zip: address.zip ?? null }
          : null,
        conditions: list(json<unknown[]>('conditions_enc')),
        allergies: list(json<unknown[]>('allergies_enc')),
        medications: list(json<unknown[]>('medications_enc')),
        // The patient's identifiers in outside systems (FHIR imports keep them: src/records/identifiers/).
        identifiers: ((row.identifiers_enc ?? []) as { h: string; v: string }[])
          .map((i) => phi.json<PatientIdentifierValue>(i.v, identifierPlace(String(row.id), i.h)))
          .filter((i): i is PatientIdentifierValue => i !== null)
          .map((i) => ({ system: i.system || null, value: i.value }))
          .sort((a, b) => (a.system ?? '').localeCompare(b.system ?? '') || a.value.localeCompare(b.value)),
        communication_preferences: {
          preferred_channel: row.preferred_channel,
          marketing_consent: row.marketing_consent === true,
          appointment_reminders: row.appointment_reminders === true,
        },
        referred_by_id: row.referred_by_id ?? null,
        registered_at: iso(row.registered_at),
        deleted_at: iso(row.deleted_at),
        ...changed,
      };
    }
    case 'appointments':
      return {
        ...sourced,
        patient_id: row.patient_id,
        starts_at: iso(row.starts_at),
        type: row.type,
        status: row.status,
        value: units(row.value_cents),
        notes: dec('notes_enc'),
        ...changed,
      };
    case 'payments':
      return {
        ...sourced,
        patient_id: row.patient_id,
        occurred_at: iso(row.occurred_at),
        amount: units(row.amount_cents),
        kind: row.kind,
        status: row.status,
        ...changed,
      };
    case 'communications':
      return {
        ...sourced,
        patient_id: row.patient_id,
        occurred_at: iso(row.occurred_at),
        channel: row.channel,
        kind: row.kind,
        direction: row.direction,
        responded_at: iso(row.responded_at),
        outcome: row.outcome ?? null,
        notes: dec('notes_enc'),
        ...changed,
      };
    case 'survey_responses':
      return {
        ...sourced,
        patient_id: row.patient_id,
        submitted_at: iso(row.submitted_at),
        satisfaction: row.satisfaction ?? null,
        nps: row.nps ?? null,
        complaint: row.complaint === true,
        comment: dec('comment_enc'),
        ...changed,
      };
    case 'treatment_plans':
      return {
        ...sourced,
        patient_id: row.patient_id,
        name: row.name,
        planned_sessions: row.planned_sessions,
        completed_sessions: row.completed_sessions,
        session_value: units(row.session_value_cents),
        status: row.status,
        started_at: iso(row.started_at),
        ends_at: iso(row.ends_at),
        ...changed,
      };
    case 'referrals':
      return {
        ...sourced,
        referrer_patient_id: row.referrer_patient_id,
        referred_patient_id: row.referred_patient_id,
        referred_at: iso(row.referred_at),
        ...changed,
      };
    case 'journey_events':
      return {
        ...sourced,
        patient_id: row.patient_id,
        occurred_at: iso(row.occurred_at),
        stage: row.stage,
        outcome: row.outcome ?? null,
        details: row.details ?? null,
        ...changed,
      };
    case 'automation_enrollments':
      return {
        ...sourced,
        patient_id: row.patient_id,
        sequence: row.sequence,
        step: row.step,
        step_index: row.step_index,
        total_steps: row.total_steps,
        next_action: row.next_action ?? null,
        next_action_at: iso(row.next_action_at),
        status: row.status,
        enrolled_at: iso(row.enrolled_at),
        ...changed,
      };
    case 'scores':
      return {
        patient_id: row.patient_id,
        status: row.status,
        risk_score: row.risk_score,
        risk_level: row.risk_level,
        risk_trend: row.risk_trend,
        risk_factors: row.risk_factors ?? [],
        engagement_score: row.engagement_score,
        lifetime_value: units(row.ltv_cents),
        historical_revenue: units(row.historical_revenue_cents),
        future_value: units(row.future_value_cents),
        referral_value: units(row.referral_value_cents),
        total_sessions: row.total_sessions,
        avg_session_value: units(row.avg_session_value_cents),
        success_probability: row.success_probability,
        first_visit_at: iso(row.first_visit_at),
        last_appointment_at: iso(row.last_appointment_at),
        next_appointment_at: iso(row.next_appointment_at),
        last_contact_at: iso(row.last_contact_at),
        computed_at: iso(row.computed_at),
        ...changed,
      };
    case 'risk_history':
      return { patient_id: row.patient_id, recorded_on: row.recorded_on, risk_score: row.risk_score, ...changed };
    case 'opportunities':
      return {
        patient_id: row.patient_id,
        opportunity_type: row.opportunity_type,
        priority: row.priority,
        outreach: row.outreach,
        channel: row.channel,
        patient_status: row.patient_status,
        estimated_value: units(row.estimated_value_cents),
        success_probability: row.success_probability,
        expected_return: units(row.expected_return_cents),
        last_contact_at: iso(row.last_contact_at),
        expected_visit_at: iso(row.expected_visit_at),
        computed_at: iso(row.computed_at),
        ...changed,
      };
  }
}
