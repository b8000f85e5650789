import { randomBytes } from 'node:crypto';
import type { TestApp } from 'test/utils/test-app';
import { cipherFor, createAppointment, createPatient, upsertMetrics } from 'test/utils/factories';

const unique = (): string => randomBytes(5).toString('hex');

/** What `seedFullPatient` stored, by record kind (the counts an export must reproduce). */
export interface StoredCounts {
  conditions: number;
  allergies: number;
  medications: number;
  appointments: number;
  charges: number;
  payments: number;
  communications: number;
  surveys: number;
  plans: number;
  referrals: number;
  journeyEvents: number;
  enrollments: number;
  riskHistory: number;
}

/**
 * A patient with records of every kind (the numbers vary with `n`, so that two patients differ), plus a referrer
 * patient who referred them. Returns the patient's id and what was stored.
 */
export async function seedFullPatient(
  t: Pick<TestApp, 'db' | 'settings'>,
  organizationId: string,
  n = 1,
  name = `Jane Export ${unique()}`,
): Promise<{ patientId: string; referrerId: string; counts: StoredCounts }> {
  const { db, settings } = t;
  const c = cipherFor(settings);
  const referrerId = await createPatient(db, settings, organizationId, { conditions: [], allergies: [], medications: [] });
  const patientId = await createPatient(db, settings, organizationId, {
    name,
    email: `jane.${unique()}@example.test`,
    conditions: ['Gingivitis', 'Cracked tooth'].slice(0, 1 + (n % 2)),
    allergies: ['Penicillin'],
    medications: ['Ibuprofen', 'Chlorhexidine', 'Amoxicillin'].slice(0, n + 1),
    marketingConsent: true,
    appointmentReminders: false,
    preferredChannel: 'sms',
  });
  const statuses = ['completed', 'no_show', 'cancelled', 'scheduled'] as const;
  const appointments = 2 + n;
  for (let i = 0; i < appointments; i++) {
    await createAppointment(db, settings, organizationId, patientId, {
      startsAt: new Date(Date.UTC(2026, 0, 5 + i, 9)),
      status: statuses[i % statuses.length],
      valueCents: 12_000 + i,
      notes: i === 0 ? 'Sensitive note about the patient' : null,
    });
  }
  const kinds: [string, string][] = [
    ['charge', 'paid'],
    ['payment', 'paid'],
    ['refund', 'refunded'],
    ['charge', 'overdue'],
  ];
  for (const [kind, status] of kinds) {
    await db.query(
      `INSERT INTO payments (organization_id, source, external_id, patient_id, occurred_at, amount_cents, kind, status)
       VALUES ($1, 'test', $2, $3, '2026-02-01T10:00:00Z', 5000, $4, $5)`,
      [organizationId, `pay-${unique()}`, patientId, kind, status],
    );
  }
  for (const direction of ['inbound', 'outbound']) {
    await db.query(
      `INSERT INTO communications (organization_id, source, external_id, patient_id, occurred_at, channel, kind, direction, responded_at, outcome, notes_enc)
       VALUES ($1, 'test', $2, $3, '2026-02-02T10:00:00Z', 'sms', 'message', $4, $5, 'answered', $6)`,
      [
        organizationId,
        `com-${unique()}`,
        patientId,
        direction,
        direction === 'outbound' ? '2026-02-02T11:00:00Z' : null,
        c.encrypt('Call me back'),
      ],
    );
  }
  const surveys = n;
  for (let i = 0; i < surveys; i++) {
    await db.query(
      `INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, nps, complaint, comment_enc)
       VALUES ($1, 'test', $2, $3, '2026-02-03T10:00:00Z', $4, $5, $6, $7)`,
      [organizationId, `srv-${unique()}`, patientId, i === 0 ? 5 : null, 9, i > 0, c.encrypt(i === 0 ? 'Lovely staff' : null)],
    );
  }
  await db.query(
    `INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
     VALUES ($1, 'test', $2, $3, 'Orthodontics', 10, 4, 9000, 'abandoned', '2025-06-01T00:00:00Z', NULL)`,
    [organizationId, `plan-${unique()}`, patientId],
  );
  await db.query(
    `INSERT INTO referrals (organization_id, source, external_id, referrer_patient_id, referred_patient_id, referred_at)
     VALUES ($1, 'test', $2, $3, $4, '2025-05-01T00:00:00Z')`,
    [organizationId, `ref-${unique()}`, referrerId, patientId],
  );
  for (const stage of ['inquiry', 'first_visit']) {
    await db.query(
      `INSERT INTO journey_events (organization_id, source, external_id, patient_id, occurred_at, stage, outcome, details)
       VALUES ($1, 'test', $2, $3, '2025-05-02T00:00:00Z', $4, 'ok', $5::jsonb)`,
      [organizationId, `je-${unique()}`, patientId, stage, JSON.stringify({ via: 'web' })],
    );
  }
  await db.query(
    `INSERT INTO automation_enrollments (organization_id, source, external_id, patient_id, sequence, step, step_index, total_steps, next_action, next_action_at, status, enrolled_at)
     VALUES ($1, 'test', $2, $3, 'recall', 'sms-1', 1, 3, 'send sms', '2026-12-01T00:00:00Z', 'paused', '2026-11-01T00:00:00Z')`,
    [organizationId, `enr-${unique()}`, patientId],
  );
  await upsertMetrics(db, organizationId, patientId, {
    riskScore: 42,
    engagementScore: 61,
    ltvCents: 123_456,
    riskFactors: [{ factor: 'missed', weight: 0.3 }],
  });
  const riskHistory = 1 + n;
  for (let i = 0; i < riskHistory; i++) {
    await db.query(`INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score) VALUES ($1, $2, $3, $4)`, [
      organizationId,
      patientId,
      `2026-0${i + 1}-01`,
      30 + i,
    ]);
  }
  await db.query(
    `INSERT INTO reengagement_opportunities (organization_id, patient_id, opportunity_type, priority, outreach, channel, patient_status,
       estimated_value_cents, success_probability, expected_return_cents, computed_at)
     VALUES ($1, $2, 'inactive_patient', 'high', 'offer', 'sms', 'at_risk', 40000, 0.4, 16000, '2026-11-24T03:00:00Z')`,
    [organizationId, patientId],
  );
  return {
    patientId,
    referrerId,
    counts: {
      conditions: 1 + (n % 2),
      allergies: 1,
      medications: n + 1,
      appointments,
      charges: 2,
      payments: 2,
      communications: 2,
      surveys,
      plans: 1,
      referrals: 1,
      journeyEvents: 2,
      enrollments: 1,
      riskHistory,
    },
  };
}
