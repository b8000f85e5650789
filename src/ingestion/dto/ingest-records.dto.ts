import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AppointmentStatus,
  Channel,
  CommunicationDirection,
  CommunicationKind,
  ConsentDecisionKind,
  ConsentPurpose,
  EnrollmentStatus,
  PaymentKind,
  PaymentStatus,
  TreatmentPlanStatus,
} from 'src/records/records.enums';

/*
 * OpenAPI documentation of each record type (a `oneOf` discriminated by `record_type`). Validation is done by the
 * typed validators in src/ingestion/validation, which give per-record reasons; these classes only describe the
 * contract, hence the explicit decorators.
 */

const ts = (description: string, example: string): ReturnType<typeof ApiProperty> =>
  ApiProperty({ type: String, format: 'date-time', description, example });
const tsOpt = (description: string, example: string): ReturnType<typeof ApiPropertyOptional> =>
  ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description, example });
const money = (description: string, example: number, required = true): ReturnType<typeof ApiProperty> =>
  (required ? ApiProperty : ApiPropertyOptional)({
    type: Number,
    minimum: 0,
    multipleOf: 0.01,
    description: `${description} In decimal currency units (cents are stored).`,
    example,
  });
const patientRef = ApiProperty({
  maxLength: 128,
  description: 'external_id of the patient in the same source (sent earlier or in this batch).',
  example: 'pat-1001',
});

abstract class SourcedRecordDoc {
  @ApiProperty({
    maxLength: 64,
    description: 'The outside system the record comes from; (record_type, source, external_id) identifies it.',
    example: 'clinic-ehr',
  })
  source: string;
  @ApiProperty({
    maxLength: 128,
    description: 'The record id in that system. Re-sending it updates the record.',
    example: 'apt-20261120-1',
  })
  external_id: string;
}

export class PatientAddressDoc {
  @ApiPropertyOptional({ maxLength: 200, example: '12 Harbor Street' }) street?: string;
  @ApiPropertyOptional({ maxLength: 100, example: 'Portland' }) city?: string;
  @ApiPropertyOptional({ maxLength: 50, example: 'OR' }) state?: string;
  @ApiPropertyOptional({ maxLength: 20, example: '97201' }) zip?: string;
}

export class PatientRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['patient'] }) record_type: 'patient';
  @ApiProperty({ maxLength: 200, example: 'Maria Gonzalez' }) name: string;
  @ApiPropertyOptional({
    maxLength: 32,
    nullable: true,
    description: 'Encrypted at rest; exact-match searchable.',
    example: '+1 503 555 0142',
  })
  phone?: string | null;
  @ApiPropertyOptional({
    maxLength: 320,
    format: 'email',
    nullable: true,
    description: 'Encrypted at rest; exact-match searchable.',
    example: 'maria@example.com',
  })
  email?: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date',
    nullable: true,
    description: 'Encrypted at rest; not in the future.',
    example: '1984-03-09',
  })
  date_of_birth?: string | null;
  @ApiPropertyOptional({ type: PatientAddressDoc, nullable: true, description: 'Encrypted at rest.' }) address?: PatientAddressDoc | null;
  @ApiPropertyOptional({ type: [String], maxItems: 100, nullable: true, description: 'Encrypted at rest.', example: ['Asthma'] })
  conditions?: string[] | null;
  @ApiPropertyOptional({ type: [String], maxItems: 100, nullable: true, description: 'Encrypted at rest.', example: ['Penicillin'] })
  allergies?: string[] | null;
  @ApiPropertyOptional({ type: [String], maxItems: 100, nullable: true, description: 'Encrypted at rest.', example: ['Albuterol inhaler'] })
  medications?: string[] | null;
  @ApiPropertyOptional({ enum: Object.values(Channel), default: 'email' }) preferred_channel?: Channel;
  @ApiPropertyOptional({
    description:
      'Recorded as a marketing consent decision (every channel) when it differs from the current state; not given: unchanged (a new patient: not granted). The `consent` record type says more (channel, evidence, expiry).',
  })
  marketing_consent?: boolean;
  @ApiPropertyOptional({
    description:
      'Recorded as an appointment-reminders consent decision (every channel) when it differs from the current state; not given: unchanged (a new patient: granted).',
  })
  appointment_reminders?: boolean;
  @ApiPropertyOptional({
    maxLength: 128,
    nullable: true,
    description: 'external_id of the referring patient (same source).',
    example: 'pat-0999',
  })
  referred_by_external_id?: string | null;
  @tsOpt('When the patient joined the clinic (default: when first received).', '2025-06-01T10:00:00Z') registered_at?: string | null;
  @tsOpt('Set to soft-delete the patient.', '2026-11-01T00:00:00Z') deleted_at?: string | null;
}

export class AppointmentRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['appointment'] }) record_type: 'appointment';
  @patientRef patient_external_id: string;
  @ts('Start of the appointment.', '2026-11-20T09:30:00Z') starts_at: string;
  @ApiProperty({ maxLength: 100, example: 'Physiotherapy session' }) type: string;
  @ApiProperty({ enum: Object.values(AppointmentStatus) }) status: AppointmentStatus;
  @money('Value of the appointment (default 0).', 125.5, false) value?: number;
  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'Encrypted at rest.', example: 'Range of motion improved.' })
  notes?: string | null;
}

export class PaymentRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['payment'] }) record_type: 'payment';
  @patientRef patient_external_id: string;
  @ts('When the payment happened.', '2026-11-20T10:05:00Z') occurred_at: string;
  @money('Always positive; the direction comes from kind.', 125.5) amount: number;
  @ApiProperty({ enum: Object.values(PaymentKind) }) kind: PaymentKind;
  @ApiProperty({ enum: Object.values(PaymentStatus) }) status: PaymentStatus;
}

export class CommunicationRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['communication'] }) record_type: 'communication';
  @patientRef patient_external_id: string;
  @ts('When the message was sent or the call happened.', '2026-11-19T09:00:00Z') occurred_at: string;
  @ApiProperty({ enum: Object.values(Channel) }) channel: Channel;
  @ApiProperty({ enum: Object.values(CommunicationKind) }) kind: CommunicationKind;
  @ApiProperty({ enum: Object.values(CommunicationDirection) }) direction: CommunicationDirection;
  @tsOpt('When the patient replied (not before occurred_at).', '2026-11-19T09:12:00Z') responded_at?: string | null;
  @ApiPropertyOptional({ maxLength: 100, nullable: true, example: 'confirmed' }) outcome?: string | null;
  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'Encrypted at rest.' }) notes?: string | null;
}

export class SurveyResponseRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['survey_response'] }) record_type: 'survey_response';
  @patientRef patient_external_id: string;
  @ts('When the survey was submitted.', '2026-11-21T18:00:00Z') submitted_at: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 5, nullable: true, example: 4 }) satisfaction?: number | null;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 10, nullable: true, example: 9 }) nps?: number | null;
  @ApiPropertyOptional({ default: false }) complaint?: boolean;
  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'Encrypted at rest.', example: 'Friendly staff.' }) comment?:
    string | null;
}

export class ReferralRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['referral'] }) record_type: 'referral';
  @ApiProperty({ maxLength: 128, description: 'external_id of the referring patient (same source).', example: 'pat-0999' })
  referrer_external_id: string;
  @ApiProperty({ maxLength: 128, description: 'external_id of the referred patient (same source).', example: 'pat-1001' })
  referred_external_id: string;
  @ts('When the referral happened.', '2025-06-01T10:00:00Z') referred_at: string;
}

export class TreatmentPlanRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['treatment_plan'] }) record_type: 'treatment_plan';
  @patientRef patient_external_id: string;
  @ApiProperty({ maxLength: 200, example: 'Physiotherapy course (10 sessions)' }) name: string;
  @ApiProperty({ type: 'integer', minimum: 0, example: 10 }) planned_sessions: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 0, example: 4 }) completed_sessions?: number;
  @money('Value of one session (default 0).', 95, false) session_value?: number;
  @ApiProperty({ enum: Object.values(TreatmentPlanStatus) }) status: TreatmentPlanStatus;
  @ts('Start of the plan.', '2026-10-01T09:00:00Z') started_at: string;
  @tsOpt('Planned end (not before started_at).', '2026-12-10T09:00:00Z') ends_at?: string | null;
}

export class JourneyEventRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['journey_event'] }) record_type: 'journey_event';
  @patientRef patient_external_id: string;
  @ts('When the stage was reached.', '2026-10-01T09:00:00Z') occurred_at: string;
  @ApiProperty({ maxLength: 64, example: 'treatment_started' }) stage: string;
  @ApiPropertyOptional({ maxLength: 200, nullable: true, example: 'Physiotherapy course' }) outcome?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'Free-form JSON object, at most 8 KB.' })
  details?: Record<string, unknown> | null;
}

export class AutomationEnrollmentRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['automation_enrollment'] }) record_type: 'automation_enrollment';
  @patientRef patient_external_id: string;
  @ApiProperty({ maxLength: 100, example: 'reactivation' }) sequence: string;
  @ApiProperty({ maxLength: 100, example: 'special_offer' }) step: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Less than total_steps.', example: 1 }) step_index: number;
  @ApiProperty({ type: 'integer', minimum: 1, example: 4 }) total_steps: number;
  @ApiPropertyOptional({ maxLength: 200, nullable: true, example: 'personal_call' }) next_action?: string | null;
  @tsOpt('When the next action is due.', '2026-11-28T15:00:00Z') next_action_at?: string | null;
  @ApiProperty({ enum: Object.values(EnrollmentStatus) }) status: EnrollmentStatus;
  @ts('When the patient entered the sequence.', '2026-11-10T08:00:00Z') enrolled_at: string;
}

export class ConsentRecordDoc extends SourcedRecordDoc {
  @ApiProperty({ enum: ['consent'] }) record_type: 'consent';
  @patientRef patient_external_id: string;
  @ApiProperty({ enum: Object.values(ConsentPurpose), description: 'What the decision is about.' }) purpose: ConsentPurpose;
  @ApiPropertyOptional({
    enum: Object.values(Channel),
    nullable: true,
    description: 'One channel (appointment_reminders and marketing only); absent: every channel.',
  })
  channel?: Channel | null;
  @ApiProperty({ enum: Object.values(ConsentDecisionKind) }) decision: ConsentDecisionKind;
  @tsOpt('When the patient decided (default: when first received). Not in the future.', '2026-11-20T09:30:00Z') recorded_at?: string | null;
  @ApiPropertyOptional({
    enum: ['front_desk', 'web_form', 'ehr_import', 'ingestion'],
    default: 'ingestion',
    description: 'How the decision reached the clinic (shown as `source` in the consent history).',
  })
  consent_source?: string;
  @ApiPropertyOptional({
    maxLength: 200,
    nullable: true,
    description: 'Who recorded it in the outside system (default: the caller, `user:<id>` or `api_key:<id>`).',
  })
  recorded_by?: string | null;
  @tsOpt('When the decision lapses (not before recorded_at).', '2027-11-20T09:30:00Z') expires_at?: string | null;
  @ApiPropertyOptional({
    maxLength: 2000,
    nullable: true,
    description: 'Free-text evidence (what was signed or said). Encrypted at rest.',
    example: 'Signed the marketing form at the front desk.',
  })
  evidence?: string | null;
}

export const RECORD_DOCS = {
  patient: PatientRecordDoc,
  appointment: AppointmentRecordDoc,
  payment: PaymentRecordDoc,
  communication: CommunicationRecordDoc,
  survey_response: SurveyResponseRecordDoc,
  referral: ReferralRecordDoc,
  treatment_plan: TreatmentPlanRecordDoc,
  journey_event: JourneyEventRecordDoc,
  automation_enrollment: AutomationEnrollmentRecordDoc,
  consent: ConsentRecordDoc,
} as const;
