import { randomBytes } from 'node:crypto';
import { Settings } from 'src/config/settings';
import { createPhiCipher, PhiCipherCore } from 'src/records/phi/phi-cipher';
import type { TestDatabase } from 'test/utils/test-database';

/**
 * Row factories for integration and e2e tests: plain SQL as the owner, PHI encrypted with the app's cipher.
 * Every factory takes explicit values for what a test asserts and defaults the rest.
 */

const unique = (): string => randomBytes(5).toString('hex');

const ciphers = new WeakMap<Settings, PhiCipherCore>();
export function cipherFor(settings: Settings): PhiCipherCore {
  let c = ciphers.get(settings);
  if (!c) {
    c = createPhiCipher(settings);
    ciphers.set(settings, c);
  }
  return c;
}

export interface PatientInput {
  name?: string;
  phone?: string | null;
  email?: string | null;
  dateOfBirth?: string | null;
  address?: { street?: string | null; city?: string | null; state?: string | null; zip?: string | null } | null;
  conditions?: string[] | null;
  allergies?: string[] | null;
  medications?: string[] | null;
  preferredChannel?: 'phone' | 'sms' | 'email' | 'whatsapp';
  marketingConsent?: boolean;
  appointmentReminders?: boolean;
  registeredAt?: Date;
  deletedAt?: Date | null;
  source?: string;
  externalId?: string;
}

/** Inserts a patient (no metrics row: add one with `metricsFactory`). Returns its id. */
export async function createPatient(
  db: TestDatabase,
  settings: Settings,
  organizationId: string,
  input: PatientInput = {},
): Promise<string> {
  const c = cipherFor(settings);
  const rows = await db.query<{ id: string }>(
    `INSERT INTO patients (organization_id, source, external_id, name, phone_enc, email_enc, date_of_birth_enc, address_enc,
       conditions_enc, allergies_enc, medications_enc, preferred_channel, marketing_consent, appointment_reminders,
       registered_at, deleted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
    [
      organizationId,
      input.source ?? 'test',
      input.externalId ?? `p-${unique()}`,
      input.name ?? `Patient ${unique()}`,
      c.encrypt(input.phone === undefined ? '+15550100' : input.phone),
      c.encrypt(input.email === undefined ? `p-${unique()}@example.test` : input.email),
      c.encrypt(input.dateOfBirth === undefined ? '1980-05-17' : input.dateOfBirth),
      input.address === null
        ? null
        : c.encryptJson(input.address ?? { street: '1 Main St', city: 'Springfield', state: 'IL', zip: '62701' }),
      input.conditions === null ? null : c.encryptJson(input.conditions ?? []),
      input.allergies === null ? null : c.encryptJson(input.allergies ?? []),
      input.medications === null ? null : c.encryptJson(input.medications ?? []),
      input.preferredChannel ?? 'email',
      input.marketingConsent ?? false,
      input.appointmentReminders ?? true,
      input.registeredAt ?? new Date('2024-01-01T00:00:00Z'),
      input.deletedAt ?? null,
    ],
  );
  // The consent flags as decisions and grants (origin `migration`), as for every patient the consent writer did not write.
  await db.query('SELECT consent_migrate_flags($1)', [organizationId]);
  return rows[0].id;
}

export interface MetricsInput {
  status?: 'active' | 'dormant' | 'at_risk';
  riskScore?: number;
  riskLevel?: 'low' | 'medium' | 'high';
  riskTrend?: 'improving' | 'stable' | 'declining';
  riskFactors?: unknown[];
  engagementScore?: number;
  ltvCents?: number;
  totalSessions?: number;
  avgSessionValueCents?: number;
  lastAppointmentAt?: Date | null;
  nextAppointmentAt?: Date | null;
  lastContactAt?: Date | null;
  stale?: boolean;
  computedAt?: Date | null;
}

/** Inserts (or replaces) the patient's `patient_metrics` row; sort_name is lower(name) as the engine keeps it. */
export async function upsertMetrics(db: TestDatabase, organizationId: string, patientId: string, input: MetricsInput = {}): Promise<void> {
  await db.query(
    `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_score, risk_level, risk_trend, risk_factors,
       engagement_score, ltv_cents, total_sessions, avg_session_value_cents, last_appointment_at, next_appointment_at,
       last_contact_at, stale, computed_at)
     SELECT $1, p.id, lower(p.name), $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15, $16
       FROM patients p WHERE p.id = $2
     ON CONFLICT (organization_id, patient_id) DO UPDATE SET status = excluded.status, risk_score = excluded.risk_score,
       risk_level = excluded.risk_level, risk_trend = excluded.risk_trend, risk_factors = excluded.risk_factors,
       engagement_score = excluded.engagement_score, ltv_cents = excluded.ltv_cents, total_sessions = excluded.total_sessions,
       avg_session_value_cents = excluded.avg_session_value_cents, last_appointment_at = excluded.last_appointment_at,
       next_appointment_at = excluded.next_appointment_at, last_contact_at = excluded.last_contact_at,
       stale = excluded.stale, computed_at = excluded.computed_at, updated_at = now()`,
    [
      organizationId,
      patientId,
      input.status ?? 'active',
      input.riskScore ?? 10,
      input.riskLevel ?? 'low',
      input.riskTrend ?? 'stable',
      JSON.stringify(input.riskFactors ?? []),
      input.engagementScore ?? 50,
      input.ltvCents ?? 0,
      input.totalSessions ?? 0,
      input.avgSessionValueCents ?? 0,
      input.lastAppointmentAt === undefined ? null : input.lastAppointmentAt,
      input.nextAppointmentAt ?? null,
      input.lastContactAt ?? null,
      input.stale ?? false,
      input.computedAt === undefined ? new Date('2026-11-24T03:00:00Z') : input.computedAt,
    ],
  );
}

export interface AppointmentInput {
  startsAt: Date;
  type?: string;
  status?: 'scheduled' | 'completed' | 'cancelled' | 'no_show';
  valueCents?: number;
  notes?: string | null;
  source?: string;
  externalId?: string;
}

export async function createAppointment(
  db: TestDatabase,
  settings: Settings,
  organizationId: string,
  patientId: string,
  input: AppointmentInput,
): Promise<string> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents, notes_enc)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      organizationId,
      input.source ?? 'test',
      input.externalId ?? `a-${unique()}`,
      patientId,
      input.startsAt,
      input.type ?? 'consultation',
      input.status ?? 'completed',
      input.valueCents ?? 0,
      cipherFor(settings).encrypt(input.notes ?? null),
    ],
  );
  return rows[0].id;
}
