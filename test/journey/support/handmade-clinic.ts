import { randomUUID } from 'node:crypto';
import type { TestDatabase } from 'test/utils/test-database';

/**
 * A small clinic written by hand so that every journey stage, every opportunity type and the survey arithmetic
 * are known in advance (docs/journey.md works through it). Now is 2026-11-24T12:00Z (TEST_NOW); the clinic is in
 * Europe/Berlin (UTC+1 in November), so 2026-11-22T23:30Z is Monday 23 November there.
 *
 * | patient | journey | opportunity |
 * | --- | --- | --- |
 * | Lena Lead | new_lead (a no-show only) | none |
 * | Finn First | first_visit (10 Nov) | none (active) |
 * | Ada Active | active_care, in an automation | none (upcoming appointment) |
 * | Max Maintenance | maintenance (plan completed 15 Mar) | overdue_appointment, recall, SMS reminder, medium |
 * | Lars Lapsed | lapsed | overdue_appointment, active plan, no reminder consent, high |
 * | Dora Dormant | first_visit (20 Sep) | inactive_patient (dormant), email offer, medium |
 * | Ivan Inactive | lapsed | inactive_patient (at risk), no marketing consent, low |
 * | Hana High | lapsed | high_value_risk (also overdue and at risk), phone, high |
 * | Una Upcoming | active_care | none: upcoming appointment despite high value and risk |
 * | Rita Reactivated | reactivated (15 Nov) | none (active) |
 * | Tom Timezone | reactivated (23 Nov Berlin) | none (upcoming appointment) |
 * | Gail Gone | deleted | none |
 */
export interface HandmadeClinic {
  organizationId: string;
  ids: Record<PatientKey, string>;
}

export type PatientKey = 'lena' | 'finn' | 'ada' | 'max' | 'lars' | 'dora' | 'ivan' | 'hana' | 'una' | 'rita' | 'tom' | 'gail';

interface PatientSpec {
  name: string;
  registered: string;
  channel: 'phone' | 'sms' | 'email' | 'whatsapp';
  marketing: boolean;
  reminders: boolean;
  deleted?: boolean;
  /** patient_metrics */
  status: 'active' | 'dormant' | 'at_risk';
  risk: 'low' | 'medium' | 'high';
  engagement: number;
  ltvCents: number;
  avgSessionCents: number;
  success: number;
  lastContact: string | null;
  next: string | null;
  /** completed visits (UTC instants); scheduled/no-show appointments are listed apart */
  visits: string[];
}

const at = (d: string): string => (d.length === 10 ? `${d}T10:00:00.000Z` : d);

export const PATIENTS: Record<PatientKey, PatientSpec> = {
  lena: {
    name: 'Lena Lead',
    registered: '2026-11-01',
    channel: 'email',
    marketing: true,
    reminders: true,
    status: 'active',
    risk: 'low',
    engagement: 20,
    ltvCents: 0,
    avgSessionCents: 0,
    success: 0.5,
    lastContact: null,
    next: null,
    visits: [],
  },
  finn: {
    name: 'Finn First',
    registered: '2026-11-02',
    channel: 'sms',
    marketing: true,
    reminders: true,
    status: 'active',
    risk: 'low',
    engagement: 60,
    ltvCents: 10_000,
    avgSessionCents: 10_000,
    success: 0.7,
    lastContact: '2026-11-10',
    next: null,
    visits: ['2026-11-10'],
  },
  ada: {
    name: 'Ada Active',
    registered: '2026-08-01',
    channel: 'sms',
    marketing: true,
    reminders: true,
    status: 'active',
    risk: 'low',
    engagement: 80,
    ltvCents: 200_000,
    avgSessionCents: 50_000,
    success: 0.9,
    lastContact: '2026-11-21',
    next: '2026-12-19',
    visits: ['2026-08-20', '2026-09-20', '2026-10-20', '2026-11-19'],
  },
  max: {
    name: 'Max Maintenance',
    registered: '2026-02-20',
    channel: 'sms',
    marketing: false,
    reminders: true,
    status: 'at_risk',
    risk: 'medium',
    engagement: 30,
    ltvCents: 80_000,
    avgSessionCents: 10_000,
    success: 0.5,
    lastContact: '2026-03-15',
    next: null,
    visits: ['2026-03-01', '2026-03-15'],
  },
  lars: {
    name: 'Lars Lapsed',
    registered: '2026-01-01',
    channel: 'email',
    marketing: true,
    reminders: false,
    status: 'at_risk',
    risk: 'high',
    engagement: 25,
    ltvCents: 50_000,
    avgSessionCents: 9_000,
    success: 0.3,
    lastContact: '2026-02-05',
    next: null,
    visits: ['2026-01-05', '2026-02-05'],
  },
  dora: {
    name: 'Dora Dormant',
    registered: '2026-09-01',
    channel: 'email',
    marketing: true,
    reminders: true,
    status: 'dormant',
    risk: 'medium',
    engagement: 40,
    ltvCents: 30_000,
    avgSessionCents: 8_000,
    success: 0.6,
    lastContact: '2026-09-25',
    next: null,
    visits: ['2026-09-20'],
  },
  ivan: {
    name: 'Ivan Inactive',
    registered: '2026-06-15',
    channel: 'whatsapp',
    marketing: false,
    reminders: true,
    status: 'at_risk',
    risk: 'medium',
    engagement: 15,
    ltvCents: 40_000,
    avgSessionCents: 6_000,
    success: 0.2,
    lastContact: null,
    next: null,
    visits: ['2026-07-01'],
  },
  hana: {
    name: 'Hana High',
    registered: '2026-01-15',
    channel: 'phone',
    marketing: true,
    reminders: true,
    status: 'at_risk',
    risk: 'high',
    engagement: 35,
    ltvCents: 500_000,
    avgSessionCents: 12_500,
    success: 0.4,
    lastContact: '2026-10-01',
    next: null,
    visits: ['2026-02-01', '2026-03-03', '2026-04-02', '2026-05-02'],
  },
  una: {
    name: 'Una Upcoming',
    registered: '2026-05-01',
    channel: 'email',
    marketing: true,
    reminders: true,
    status: 'at_risk',
    risk: 'high',
    engagement: 30,
    ltvCents: 300_000,
    avgSessionCents: 30_000,
    success: 0.5,
    lastContact: '2026-11-01',
    next: '2026-12-01',
    visits: ['2026-10-01', '2026-10-15'],
  },
  rita: {
    name: 'Rita Reactivated',
    registered: '2026-02-20',
    channel: 'email',
    marketing: true,
    reminders: true,
    status: 'active',
    risk: 'low',
    engagement: 50,
    ltvCents: 60_000,
    avgSessionCents: 10_000,
    success: 0.6,
    lastContact: '2026-11-15',
    next: null,
    visits: ['2026-03-01', '2026-11-15'],
  },
  tom: {
    name: 'Tom Timezone',
    registered: '2026-05-20',
    channel: 'sms',
    marketing: true,
    reminders: true,
    status: 'active',
    risk: 'low',
    engagement: 70,
    ltvCents: 90_000,
    avgSessionCents: 10_000,
    success: 0.6,
    lastContact: '2026-11-22T23:30:00.000Z',
    next: '2026-12-20',
    visits: ['2026-06-01', '2026-11-22T23:30:00.000Z'],
  },
  gail: {
    name: 'Gail Gone',
    registered: '2026-01-01',
    channel: 'email',
    marketing: true,
    reminders: true,
    deleted: true,
    status: 'at_risk',
    risk: 'high',
    engagement: 10,
    ltvCents: 900_000,
    avgSessionCents: 20_000,
    success: 0.9,
    lastContact: null,
    next: null,
    visits: ['2026-01-10', '2026-02-10'],
  },
};

let seq = 0;
const ext = (): string => `hand-${++seq}`;

/** Writes the clinic as the owner (outside the app). `encrypt` turns a note into the PHI ciphertext. */
export async function createHandmadeClinic(db: TestDatabase, encrypt: (plain: string) => string): Promise<HandmadeClinic> {
  const [org] = await db.query<{ id: string }>(
    `INSERT INTO organizations (slug, name, timezone, currency) VALUES ($1, 'Handmade Clinic', 'Europe/Berlin', 'EUR') RETURNING id`,
    [`handmade-${randomUUID().slice(0, 8)}`],
  );
  const orgId = org.id;
  const ids = {} as Record<PatientKey, string>;
  for (const [key, p] of Object.entries(PATIENTS) as [PatientKey, PatientSpec][]) {
    const [row] = await db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name, registered_at, preferred_channel, marketing_consent,
                             appointment_reminders, deleted_at)
       VALUES ($1, 'test', $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [orgId, ext(), p.name, at(p.registered), p.channel, p.marketing, p.reminders, p.deleted ? '2026-11-01T00:00:00Z' : null],
    );
    ids[key] = row.id;
    // Its consent flags as decisions and grants, as the schema migration converts them (docs/privacy.md).
    await db.query('SELECT consent_migrate_flags($1)', [orgId]);
    for (const v of p.visits) await appointment(db, orgId, row.id, at(v), 'completed', p.avgSessionCents);
    if (p.next) await appointment(db, orgId, row.id, at(p.next), 'scheduled', p.avgSessionCents);
    // A deleted patient has no metrics (soft deletion removes them, see PatientMetricCounts).
    if (!p.deleted)
      await db.query(
        `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_score, risk_level, engagement_score, ltv_cents,
                                    avg_session_value_cents, total_sessions, last_appointment_at, next_appointment_at, last_contact_at,
                                    success_probability, stale, computed_at, first_visit_at)
       VALUES ($1, $2, lower($3), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, false, '2026-11-24T03:00:00Z', $15)`,
        [
          orgId,
          row.id,
          p.name,
          p.status,
          { low: 10, medium: 50, high: 85 }[p.risk],
          p.risk,
          p.engagement,
          p.ltvCents,
          p.avgSessionCents,
          p.visits.length,
          p.visits.length ? at(p.visits[p.visits.length - 1]) : null,
          p.next ? at(p.next) : null,
          p.lastContact ? at(p.lastContact) : null,
          p.success,
          p.visits.length ? at(p.visits[0]) : null,
        ],
      );
  }

  // Lena: a no-show does not make a visit.
  await appointment(db, orgId, ids.lena, at('2026-11-05'), 'no_show', 0);
  // Ada: notes on her last visit, two communications after it, an automation sequence half done (and an older completed one).
  await db.query(`UPDATE appointments SET notes_enc = $1 WHERE patient_id = $2 AND starts_at = $3`, [
    encrypt('cleaning went well'),
    ids.ada,
    at('2026-11-19'),
  ]);
  await communication(db, orgId, ids.ada, {
    at: '2026-11-20T09:00:00.000Z',
    channel: 'sms',
    kind: 'message',
    direction: 'outbound',
    respondedAt: '2026-11-20T13:00:00.000Z',
    outcome: null,
    notes: null,
  });
  await communication(db, orgId, ids.ada, {
    at: '2026-11-21T15:00:00.000Z',
    channel: 'phone',
    kind: 'call',
    direction: 'inbound',
    respondedAt: null,
    outcome: 'booked',
    notes: encrypt('asked about parking'),
  });
  await enrollment(db, orgId, ids.ada, {
    sequence: 'welcome series',
    step: 'done',
    stepIndex: 3,
    totalSteps: 3,
    status: 'completed',
    enrolledAt: '2026-08-01',
  });
  await enrollment(db, orgId, ids.ada, {
    sequence: 'post-visit care',
    step: 'feedback survey',
    stepIndex: 2,
    totalSteps: 4,
    status: 'active',
    enrolledAt: '2026-11-19',
    nextAction: 'send satisfaction survey',
    nextActionAt: '2026-11-26T09:00:00.000Z',
  });
  // Max: a completed two-session plan (maintenance from 15 Mar).
  await plan(db, orgId, ids.max, {
    planned: 2,
    completed: 2,
    sessionCents: 10_000,
    status: 'completed',
    started: '2026-03-01',
    ends: '2026-03-15',
  });
  // Lars: an active plan with 4 of 6 sessions left, no end date (cadence: his usual 31 days).
  await plan(db, orgId, ids.lars, { planned: 6, completed: 2, sessionCents: 9_000, status: 'active', started: '2026-01-05', ends: null });
  // Rita: a CRM event marks her lapsed before her natural lapse; an unknown stage is ignored.
  await journeyEvent(db, orgId, ids.rita, { at: '2026-04-15', stage: 'lapsed', outcome: 'marked lapsed by CRM' });
  await journeyEvent(db, orgId, ids.rita, { at: '2026-04-20', stage: 'vip', outcome: null });

  // Surveys in the default window (7 Sep .. 24 Nov): ratings 5,5,4,3,1 (mean 3.6) and NPS answers 10,9,9,7,2,6
  // (3 promoters, 2 detractors of 6: 16.7). One response before the window is ignored.
  const surveys: [PatientKey, string, number | null, number | null][] = [
    ['ada', '2026-09-21', 5, 10],
    ['ada', '2026-10-21', 5, 9],
    ['finn', '2026-11-11', 4, 9],
    ['rita', '2026-11-16', 3, 7],
    ['dora', '2026-09-22', 1, 2],
    ['tom', '2026-11-23', null, 6],
    ['hana', '2026-05-03', 1, 0],
  ];
  for (const [k, d, s, n] of surveys) {
    await db.query(
      `INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, nps) VALUES ($1, 'test', $2, $3, $4, $5, $6)`,
      [orgId, ext(), ids[k], at(d), s, n],
    );
  }
  return { organizationId: orgId, ids };
}

async function appointment(
  db: TestDatabase,
  orgId: string,
  patientId: string,
  startsAt: string,
  status: string,
  valueCents: number,
): Promise<void> {
  await db.query(
    `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents) VALUES ($1, 'test', $2, $3, $4, 'consultation', $5, $6)`,
    [orgId, ext(), patientId, startsAt, status, valueCents],
  );
}

async function communication(
  db: TestDatabase,
  orgId: string,
  patientId: string,
  c: {
    at: string;
    channel: string;
    kind: string;
    direction: string;
    respondedAt: string | null;
    outcome: string | null;
    notes: string | null;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO communications (organization_id, source, external_id, patient_id, occurred_at, channel, kind, direction, responded_at, outcome, notes_enc)
     VALUES ($1, 'test', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [orgId, ext(), patientId, c.at, c.channel, c.kind, c.direction, c.respondedAt, c.outcome, c.notes],
  );
}

async function enrollment(
  db: TestDatabase,
  orgId: string,
  patientId: string,
  e: {
    sequence: string;
    step: string;
    stepIndex: number;
    totalSteps: number;
    status: string;
    enrolledAt: string;
    nextAction?: string;
    nextActionAt?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO automation_enrollments (organization_id, source, external_id, patient_id, sequence, step, step_index, total_steps, next_action, next_action_at, status, enrolled_at)
     VALUES ($1, 'test', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      orgId,
      ext(),
      patientId,
      e.sequence,
      e.step,
      e.stepIndex,
      e.totalSteps,
      e.nextAction ?? null,
      e.nextActionAt ?? null,
      e.status,
      at(e.enrolledAt),
    ],
  );
}

async function plan(
  db: TestDatabase,
  orgId: string,
  patientId: string,
  p: { planned: number; completed: number; sessionCents: number; status: string; started: string; ends: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
     VALUES ($1, 'test', $2, $3, 'physiotherapy', $4, $5, $6, $7, $8, $9)`,
    [orgId, ext(), patientId, p.planned, p.completed, p.sessionCents, p.status, at(p.started), p.ends ? at(p.ends) : null],
  );
}

async function journeyEvent(
  db: TestDatabase,
  orgId: string,
  patientId: string,
  e: { at: string; stage: string; outcome: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO journey_events (organization_id, source, external_id, patient_id, occurred_at, stage, outcome) VALUES ($1, 'crm', $2, $3, $4, $5, $6)`,
    [orgId, ext(), patientId, at(e.at), e.stage, e.outcome],
  );
}
