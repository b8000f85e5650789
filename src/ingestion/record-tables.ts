import { RecordData, RecordType, ValidRecord } from 'src/ingestion/validation/record-validators';

/**
 * How each record type is stored: its table, and per column the SQL type and the value from a validated record.
 * `enc` columns hold ciphertext (`text`: a string, `json`: JSON text) and are compared on their plaintext.
 */
export interface ColumnSpec {
  name: string;
  sql: 'text' | 'uuid' | 'timestamptz' | 'integer' | 'smallint' | 'boolean' | 'jsonb';
  enc?: 'text' | 'json';
  /** Not given (null): an existing row keeps its value, a new row gets the current time. */
  defaultNow?: boolean;
  /** A blind index computed from another column's plaintext (not compared: it follows that column). */
  blindIndexOf?: { column: string; kind: 'email' | 'phone' };
  /**
   * The patient's contact ciphertext (phone and email in one value, src/records/phi/patient-contact.ts) computed
   * from these columns' plaintext (not compared: it follows them).
   */
  contactOf?: { phone: string; email: string };
  /** Not compared when judging whether a re-sent record changed (who sent it, not what it says). */
  noCompare?: boolean;
}

/** What a row may need besides the record: who writes it (`user:<id>`, `api_key:<id>`). */
export interface RowContext {
  actor: string;
}

/** A column's plain value before encryption: timestamps as epoch ms, JSON as a value. */
export type PlainValue = string | number | boolean | null | Record<string, unknown> | unknown[];

export interface TableSpec {
  table: string;
  columns: ColumnSpec[];
  /** External ids (same source) of the patients the record refers to, with the field that names each. */
  patientRefs(data: ValidRecord['data']): { field: string; externalId: string }[];
  /** Column values; `patientId` resolves a referenced patient's external id to its id. */
  row(data: ValidRecord['data'], patientId: (externalId: string) => string, context: RowContext): Record<string, PlainValue>;
  /** Rows never updated (consent decisions): a re-sent record that differs is rejected instead. */
  immutable?: boolean;
}

const col = (name: string, sql: ColumnSpec['sql'], enc?: ColumnSpec['enc']): ColumnSpec => ({ name, sql, enc });
const registeredAt: ColumnSpec = { name: 'registered_at', sql: 'timestamptz', defaultNow: true };
const ref = (field: string, externalId: string): { field: string; externalId: string } => ({ field, externalId });

function spec<T extends RecordType>(
  table: string,
  columns: ColumnSpec[],
  patientRefs: (d: RecordData<T>) => { field: string; externalId: string }[],
  row: (d: RecordData<T>, patientId: (externalId: string) => string, context: RowContext) => Record<string, PlainValue>,
  options: { immutable?: boolean } = {},
): TableSpec {
  return { table, columns, patientRefs: patientRefs as TableSpec['patientRefs'], row: row as TableSpec['row'], ...options };
}

export const TABLES: Record<RecordType, TableSpec> = {
  patient: spec<'patient'>(
    'patients',
    [
      col('name', 'text'),
      col('phone_enc', 'text', 'text'),
      col('email_enc', 'text', 'text'),
      col('date_of_birth_enc', 'text', 'text'),
      col('address_enc', 'text', 'json'),
      col('conditions_enc', 'text', 'json'),
      col('allergies_enc', 'text', 'json'),
      col('medications_enc', 'text', 'json'),
      // marketing_consent and appointment_reminders are not written here: they become consent decisions
      // (src/consent/consent-writer.ts), which keep those columns.
      col('preferred_channel', 'text'),
      registeredAt,
      col('deleted_at', 'timestamptz'),
      { name: 'email_bidx', sql: 'text', blindIndexOf: { column: 'email_enc', kind: 'email' } },
      { name: 'phone_bidx', sql: 'text', blindIndexOf: { column: 'phone_enc', kind: 'phone' } },
      { name: 'contact_enc', sql: 'text', contactOf: { phone: 'phone_enc', email: 'email_enc' } },
    ],
    // `referred_by_external_id` is checked like a reference but written after all patients (it may name one of them).
    (d) => (d.referred_by_external_id ? [ref('referred_by_external_id', d.referred_by_external_id)] : []),
    (d) => ({
      name: d.name,
      phone_enc: d.phone,
      email_enc: d.email,
      date_of_birth_enc: d.date_of_birth,
      address_enc: d.address,
      conditions_enc: d.conditions,
      allergies_enc: d.allergies,
      medications_enc: d.medications,
      preferred_channel: d.preferred_channel,
      registered_at: d.registered_at,
      deleted_at: d.deleted_at,
    }),
  ),
  appointment: spec<'appointment'>(
    'appointments',
    [
      col('patient_id', 'uuid'),
      col('starts_at', 'timestamptz'),
      col('type', 'text'),
      col('status', 'text'),
      col('value_cents', 'integer'),
      col('notes_enc', 'text', 'text'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      starts_at: d.starts_at,
      type: d.type,
      status: d.status,
      value_cents: d.value,
      notes_enc: d.notes,
    }),
  ),
  payment: spec<'payment'>(
    'payments',
    [
      col('patient_id', 'uuid'),
      col('occurred_at', 'timestamptz'),
      col('amount_cents', 'integer'),
      col('kind', 'text'),
      col('status', 'text'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      occurred_at: d.occurred_at,
      amount_cents: d.amount,
      kind: d.kind,
      status: d.status,
    }),
  ),
  communication: spec<'communication'>(
    'communications',
    [
      col('patient_id', 'uuid'),
      col('occurred_at', 'timestamptz'),
      col('channel', 'text'),
      col('kind', 'text'),
      col('direction', 'text'),
      col('responded_at', 'timestamptz'),
      col('outcome', 'text'),
      col('notes_enc', 'text', 'text'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      occurred_at: d.occurred_at,
      channel: d.channel,
      kind: d.kind,
      direction: d.direction,
      responded_at: d.responded_at,
      outcome: d.outcome,
      notes_enc: d.notes,
    }),
  ),
  survey_response: spec<'survey_response'>(
    'survey_responses',
    [
      col('patient_id', 'uuid'),
      col('submitted_at', 'timestamptz'),
      col('satisfaction', 'smallint'),
      col('nps', 'smallint'),
      col('complaint', 'boolean'),
      col('comment_enc', 'text', 'text'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      submitted_at: d.submitted_at,
      satisfaction: d.satisfaction,
      nps: d.nps,
      complaint: d.complaint,
      comment_enc: d.comment,
    }),
  ),
  referral: spec<'referral'>(
    'referrals',
    [col('referrer_patient_id', 'uuid'), col('referred_patient_id', 'uuid'), col('referred_at', 'timestamptz')],
    (d) => [ref('referrer_external_id', d.referrer_external_id), ref('referred_external_id', d.referred_external_id)],
    (d, id) => ({
      referrer_patient_id: id(d.referrer_external_id),
      referred_patient_id: id(d.referred_external_id),
      referred_at: d.referred_at,
    }),
  ),
  treatment_plan: spec<'treatment_plan'>(
    'treatment_plans',
    [
      col('patient_id', 'uuid'),
      col('name', 'text'),
      col('planned_sessions', 'integer'),
      col('completed_sessions', 'integer'),
      col('session_value_cents', 'integer'),
      col('status', 'text'),
      col('started_at', 'timestamptz'),
      col('ends_at', 'timestamptz'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      name: d.name,
      planned_sessions: d.planned_sessions,
      completed_sessions: d.completed_sessions,
      session_value_cents: d.session_value,
      status: d.status,
      started_at: d.started_at,
      ends_at: d.ends_at,
    }),
  ),
  journey_event: spec<'journey_event'>(
    'journey_events',
    [col('patient_id', 'uuid'), col('occurred_at', 'timestamptz'), col('stage', 'text'), col('outcome', 'text'), col('details', 'jsonb')],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      occurred_at: d.occurred_at,
      stage: d.stage,
      outcome: d.outcome,
      details: d.details,
    }),
  ),
  automation_enrollment: spec<'automation_enrollment'>(
    'automation_enrollments',
    [
      col('patient_id', 'uuid'),
      col('sequence', 'text'),
      col('step', 'text'),
      col('step_index', 'integer'),
      col('total_steps', 'integer'),
      col('next_action', 'text'),
      col('next_action_at', 'timestamptz'),
      col('status', 'text'),
      col('enrolled_at', 'timestamptz'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id) => ({
      patient_id: id(d.patient_external_id),
      sequence: d.sequence,
      step: d.step,
      step_index: d.step_index,
      total_steps: d.total_steps,
      next_action: d.next_action,
      next_action_at: d.next_action_at,
      status: d.status,
      enrolled_at: d.enrolled_at,
    }),
  ),
  consent: spec<'consent'>(
    'consent_decisions',
    [
      col('patient_id', 'uuid'),
      col('purpose', 'text'),
      col('channel', 'text'),
      col('decision', 'text'),
      { name: 'recorded_at', sql: 'timestamptz', defaultNow: true },
      col('origin', 'text'),
      { name: 'recorded_by', sql: 'text', noCompare: true },
      col('expires_at', 'timestamptz'),
      col('evidence_enc', 'text', 'text'),
    ],
    (d) => [ref('patient_external_id', d.patient_external_id)],
    (d, id, context) => ({
      patient_id: id(d.patient_external_id),
      purpose: d.purpose,
      channel: d.channel,
      decision: d.decision,
      recorded_at: d.recorded_at,
      origin: d.consent_source,
      recorded_by: d.recorded_by ?? context.actor,
      expires_at: d.expires_at,
      evidence_enc: d.evidence,
    }),
    { immutable: true },
  ),
};

/** Patients first (others refer to them), then the rest in a fixed order. */
export const WRITE_ORDER: RecordType[] = [
  'patient',
  'appointment',
  'payment',
  'communication',
  'survey_response',
  'referral',
  'treatment_plan',
  'journey_event',
  'automation_enrollment',
  'consent',
];

/** Columns whose rows concern patients: the patients marked stale after a write. */
export const PATIENT_COLUMNS = ['patient_id', 'referrer_patient_id', 'referred_patient_id'];
