import {
  AppointmentStatus,
  Channel,
  CommunicationDirection,
  CommunicationKind,
  ConsentDecisionKind,
  ConsentPurpose,
  ConsentSource,
  CONTACT_PURPOSES,
  EnrollmentStatus,
  PaymentKind,
  PaymentStatus,
  TreatmentPlanStatus,
} from 'src/records/records.enums';
import {
  bool,
  date,
  email,
  integer,
  INVALID,
  jsonObject,
  money,
  object,
  oneOf,
  optional,
  parseShape,
  Parsed,
  RecordError,
  required,
  Shape,
  text,
  textList,
  timestamp,
} from 'src/ingestion/validation/field-rules';

export const RecordType = {
  Patient: 'patient',
  Appointment: 'appointment',
  Payment: 'payment',
  Communication: 'communication',
  SurveyResponse: 'survey_response',
  Referral: 'referral',
  TreatmentPlan: 'treatment_plan',
  JourneyEvent: 'journey_event',
  AutomationEnrollment: 'automation_enrollment',
  Consent: 'consent',
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const patientRef = required(text(128));
const notes = optional(text(2000), null);
const PHONE = /^\+?[0-9][0-9 ().-]{2,31}$/;

/** How an ingested consent decision reached the clinic (`migration` is the schema migration's alone). */
export const INGESTED_CONSENT_SOURCES = {
  FrontDesk: ConsentSource.FrontDesk,
  WebForm: ConsentSource.WebForm,
  EhrImport: ConsentSource.EhrImport,
  Ingestion: ConsentSource.Ingestion,
} as const;

/** The fields of each record type (besides `record_type`, `source` and `external_id`). */
export const RECORD_SHAPES = {
  patient: {
    name: required(text(200)),
    phone: optional(text(32, { pattern: PHONE, expected: 'a phone number of digits, spaces, +, -, ( and )' }), null),
    email: optional(email, null),
    date_of_birth: optional(date, null),
    address: optional(
      object({
        street: optional(text(200), null),
        city: optional(text(100), null),
        state: optional(text(50), null),
        zip: optional(text(20), null),
      }),
      null,
    ),
    conditions: optional(textList(100, 200), null),
    allergies: optional(textList(100, 200), null),
    medications: optional(textList(100, 200), null),
    preferred_channel: optional(oneOf(Channel), Channel.Email),
    // Not given: no decision (a new patient gets appointment reminders granted, marketing not recorded).
    marketing_consent: optional(bool, null),
    appointment_reminders: optional(bool, null),
    referred_by_external_id: optional(text(128), null),
    registered_at: optional(timestamp, null),
    deleted_at: optional(timestamp, null),
  },
  appointment: {
    patient_external_id: patientRef,
    starts_at: required(timestamp),
    type: required(text(100)),
    status: required(oneOf(AppointmentStatus)),
    value: optional(money(), 0),
    notes,
  },
  payment: {
    patient_external_id: patientRef,
    occurred_at: required(timestamp),
    amount: required(money()),
    kind: required(oneOf(PaymentKind)),
    status: required(oneOf(PaymentStatus)),
  },
  communication: {
    patient_external_id: patientRef,
    occurred_at: required(timestamp),
    channel: required(oneOf(Channel)),
    kind: required(oneOf(CommunicationKind)),
    direction: required(oneOf(CommunicationDirection)),
    responded_at: optional(timestamp, null),
    outcome: optional(text(100), null),
    notes,
  },
  survey_response: {
    patient_external_id: patientRef,
    submitted_at: required(timestamp),
    satisfaction: optional(integer(1, 5), null),
    nps: optional(integer(0, 10), null),
    complaint: optional(bool, false),
    comment: optional(text(2000), null),
  },
  referral: {
    referrer_external_id: required(text(128)),
    referred_external_id: required(text(128)),
    referred_at: required(timestamp),
  },
  treatment_plan: {
    patient_external_id: patientRef,
    name: required(text(200)),
    planned_sessions: required(integer(0, 10_000)),
    completed_sessions: optional(integer(0, 10_000), 0),
    session_value: optional(money(), 0),
    status: required(oneOf(TreatmentPlanStatus)),
    started_at: required(timestamp),
    ends_at: optional(timestamp, null),
  },
  journey_event: {
    patient_external_id: patientRef,
    occurred_at: required(timestamp),
    stage: required(text(64)),
    outcome: optional(text(200), null),
    details: optional(jsonObject(8192), null),
  },
  automation_enrollment: {
    patient_external_id: patientRef,
    sequence: required(text(100)),
    step: required(text(100)),
    step_index: required(integer(0, 1000)),
    total_steps: required(integer(1, 1000)),
    next_action: optional(text(200), null),
    next_action_at: optional(timestamp, null),
    status: required(oneOf(EnrollmentStatus)),
    enrolled_at: required(timestamp),
  },
  consent: {
    patient_external_id: patientRef,
    purpose: required(oneOf(ConsentPurpose)),
    channel: optional(oneOf(Channel), null),
    decision: required(oneOf(ConsentDecisionKind)),
    recorded_at: optional(timestamp, null),
    consent_source: optional(oneOf(INGESTED_CONSENT_SOURCES), ConsentSource.Ingestion),
    recorded_by: optional(text(200), null),
    expires_at: optional(timestamp, null),
    evidence: optional(text(2000), null),
  },
} as const;

export type RecordData<T extends RecordType> = Parsed<(typeof RECORD_SHAPES)[T]>;
export type ValidRecord = { [T in RecordType]: { type: T; source: string; externalId: string; data: RecordData<T> } }[RecordType];

export type Validation =
  | { ok: true; record: ValidRecord }
  | { ok: false; recordType: string | null; source: string | null; externalId: string | null; errors: RecordError[] };

const COMMON = ['record_type', 'source', 'external_id'];
const isType = (v: unknown): v is RecordType => typeof v === 'string' && (Object.values(RecordType) as string[]).includes(v);

/** Judges one record of a batch on its own (references to patients are checked later, against the database). */
export function validateRecord(raw: unknown, nowMs: number): Validation {
  const errors: RecordError[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, recordType: null, source: null, externalId: null, errors: [{ field: '', message: 'must be a JSON object' }] };
  }
  const input = raw as Record<string, unknown>;
  const recordType = isType(input.record_type) ? input.record_type : null;
  if (recordType === null) errors.push({ field: 'record_type', message: `must be one of ${Object.values(RecordType).join(', ')}` });
  const source = required(text(64))(input.source, 'source', errors);
  const externalId = required(text(128))(input.external_id, 'external_id', errors);
  const data = recordType === null ? INVALID : parseShape(RECORD_SHAPES[recordType] as Shape, input, errors, '', COMMON);
  if (recordType !== null && data !== INVALID) crossFieldChecks(recordType, data as Record<string, unknown>, nowMs, errors);
  const reported = {
    recordType: typeof input.record_type === 'string' ? input.record_type.slice(0, 64) : null,
    source: source === INVALID ? null : source,
    externalId: externalId === INVALID ? null : externalId,
  };
  if (errors.length > 0 || recordType === null || data === INVALID || source === INVALID || externalId === INVALID)
    return { ok: false, ...reported, errors };
  return { ok: true, record: { type: recordType, source, externalId, data } as unknown as ValidRecord };
}

function crossFieldChecks(type: RecordType, d: Record<string, unknown>, nowMs: number, errors: RecordError[]): void {
  const after = (later: string, earlier: string): void => {
    if (typeof d[later] === 'number' && typeof d[earlier] === 'number' && (d[later] as number) < (d[earlier] as number)) {
      errors.push({ field: later, message: `must not be before ${earlier}` });
    }
  };
  switch (type) {
    case 'patient':
      if (typeof d.date_of_birth === 'string' && Date.parse(d.date_of_birth) > nowMs)
        errors.push({ field: 'date_of_birth', message: 'must not be in the future' });
      break;
    case 'communication':
      after('responded_at', 'occurred_at');
      break;
    case 'treatment_plan':
      after('ends_at', 'started_at');
      break;
    case 'automation_enrollment':
      if ((d.step_index as number) >= (d.total_steps as number))
        errors.push({ field: 'step_index', message: 'must be less than total_steps' });
      break;
    case 'consent':
      after('expires_at', 'recorded_at');
      if (d.channel !== null && !(CONTACT_PURPOSES as readonly unknown[]).includes(d.purpose)) {
        errors.push({
          field: 'channel',
          message: `must be absent for purpose ${String(d.purpose)} (channels apply to ${CONTACT_PURPOSES.join(' and ')})`,
        });
      }
      if (typeof d.recorded_at === 'number' && d.recorded_at > nowMs + 5 * 60_000)
        errors.push({ field: 'recorded_at', message: 'must not be in the future' });
      break;
    case 'referral':
      if (d.referrer_external_id === d.referred_external_id)
        errors.push({ field: 'referred_external_id', message: 'must differ from referrer_external_id' });
      break;
    case 'appointment':
    case 'payment':
    case 'survey_response':
    case 'journey_event':
      break;
  }
}
