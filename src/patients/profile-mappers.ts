import type { PhiReader } from 'src/records/phi/phi-reader';
import type { AppointmentHistoryItem, PatientAddress, PatientProfile } from 'src/patients/dto/profile.response';
import type { PatientListItem } from 'src/patients/dto/profiles.response';
import type { ProfileListRow, ProfileRow } from 'src/patients/patients.repository';

/**
 * Rows to API objects. The list and the profile share `money` and `score`, so the values both show (ltv, risk
 * score, total sessions, last and next appointment) are identical.
 *
 * Defaults when a patient has no metrics row yet: ltv 0, sessions 0, average 0, no last/next appointment, risk
 * score 0 at level `low` with no factors, assessed at the record's last update. Stale rows (awaiting a recompute)
 * answer with their last computed values.
 */

/** Integer cents to currency units (never negative). */
export const money = (cents: number | null | undefined): number => (cents && cents > 0 ? cents / 100 : 0);

/** A 0-100 score, clamped, two decimals at most. */
export const score = (value: number | null | undefined): number =>
  value === null || value === undefined || !Number.isFinite(value) ? 0 : Math.round(Math.min(100, Math.max(0, value)) * 100) / 100;

const iso = (d: Date | string | null | undefined): string | null =>
  d === null || d === undefined ? null : d instanceof Date ? d.toISOString() : isoFromPg(d);

/**
 * A timestamp as PostgreSQL prints it in UTC with DateStyle ISO (`2026-11-25 08:30:00.123456+00`, fraction optional)
 * to ISO 8601 with milliseconds (`2026-11-25T08:30:00.123Z`), by slicing: what `new Date(text).toISOString()` gives,
 * fraction truncated to milliseconds as pg's own parser does. Any other form (an offset, a year beyond 9999, BC) goes
 * through Date.
 */
export function isoFromPg(text: string): string {
  const n = text.length;
  if (n >= 22 && n <= 29 && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32 && text.endsWith('+00') && (n === 22 || text.charCodeAt(19) === 46)) {
    const ms = n === 22 ? '000' : (text.slice(20, n - 3) + '00').slice(0, 3);
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}Z`;
  }
  const parsed = new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  if (Number.isNaN(parsed.getTime())) throw new Error('Unexpected timestamp text from PostgreSQL');
  return parsed.toISOString();
}

/** Where a patient's column is stored (the additional data its ciphertext is bound to). */
const patientPlace = (id: string, column: string): { table: string; column: string; row: string } => ({ table: 'patients', column, row: id });

/**
 * A list row: phone and email from the row's contact ciphertext (one decryption), or, on a row stored before it
 * existed (`contact_enc` null; the repository then reads `phone_enc` and `email_enc`), from those two columns.
 */
export function toListItem(row: ProfileListRow, phi: PhiReader): PatientListItem {
  const contact =
    row.contact_enc !== null
      ? phi.contact(row.contact_enc, row.id)
      : { phone: phi.recent(row.phone_enc, patientPlace(row.id, 'phone_enc')), email: phi.recent(row.email_enc, patientPlace(row.id, 'email_enc')) };
  return {
    id: row.id,
    name: row.name,
    phone: contact.phone,
    email: contact.email,
    ltv: money(row.ltv_cents),
    total_sessions: row.total_sessions ?? 0,
    last_appointment: iso(row.last_appointment_at),
    next_appointment: iso(row.next_appointment_at),
    status: row.status,
    risk_score: score(row.risk_score),
    engagement_score: score(row.engagement_score),
    created_at: iso(row.registered_at) as string,
    updated_at: iso(row.updated_at) as string,
  };
}

/** `risk_factors` entries are `{ code, text, points }` objects (scoring) or plain sentences. */
export function riskFactorTexts(factors: unknown[] | null): string[] {
  const out: string[] = [];
  for (const f of factors ?? []) {
    if (typeof f === 'string') out.push(f);
    else if (f && typeof f === 'object' && typeof (f as { text?: unknown }).text === 'string') out.push((f as { text: string }).text);
  }
  return out;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function address(value: unknown): PatientAddress | null {
  if (!value || typeof value !== 'object') return null;
  const a = value as Record<string, unknown>;
  const field = (k: string): string | null => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : null);
  const out = { street: field('street'), city: field('city'), state: field('state'), zip: field('zip') };
  return Object.values(out).every((v) => v === null) ? null : out;
}

function dateOnly(value: string | null): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(value);
  return m ? m[1] : null;
}

export function toProfile(row: ProfileRow, phi: PhiReader, withMedical: boolean): PatientProfile {
  const at = (column: string): { table: string; column: string; row: string } => patientPlace(row.id, column);
  const history: AppointmentHistoryItem[] = row.history.map((a) => ({
    date: iso(a.starts_at) as string,
    type: a.type,
    value: money(a.value_cents),
    notes: phi.text(a.notes_enc, { table: 'appointments', column: 'notes_enc', row: a.id }),
    status: a.status,
  }));
  const level = row.risk_level ?? 'low';
  return {
    id: row.id,
    name: row.name,
    phone: phi.text(row.phone_enc, at('phone_enc')),
    email: phi.text(row.email_enc, at('email_enc')),
    date_of_birth: dateOnly(phi.text(row.date_of_birth_enc, at('date_of_birth_enc'))),
    address: address(phi.json<unknown>(row.address_enc, at('address_enc'))),
    medical_info: withMedical
      ? {
          conditions: strings(phi.json<unknown>(row.conditions_enc, at('conditions_enc'))),
          allergies: strings(phi.json<unknown>(row.allergies_enc, at('allergies_enc'))),
          medications: strings(phi.json<unknown>(row.medications_enc, at('medications_enc'))),
        }
      : null,
    engagement_metrics: {
      ltv: money(row.ltv_cents),
      total_sessions: row.total_sessions ?? 0,
      avg_session_value: money(row.avg_session_value_cents),
      last_appointment: iso(row.last_appointment_at),
      next_appointment: iso(row.next_appointment_at),
      appointment_history: history,
    },
    risk_assessment: {
      risk_score: score(row.risk_score),
      risk_level: level,
      risk_factors: riskFactorTexts(row.risk_factors),
      last_assessed: iso(row.computed_at ?? row.metrics_updated_at ?? row.updated_at) as string,
    },
    communication_preferences: {
      preferred_channel: row.preferred_channel as PatientProfile['communication_preferences']['preferred_channel'],
      marketing_consent: row.marketing_consent,
      appointment_reminders: row.appointment_reminders,
    },
  };
}
