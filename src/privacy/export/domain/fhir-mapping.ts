import type {
  AllergyIntolerance,
  Appointment,
  Basic,
  CarePlan,
  Communication,
  Condition,
  Consent,
  Extension,
  Identifier,
  Invoice,
  MedicationStatement,
  Money,
  Observation,
  ObservationComponent,
  Patient,
  PaymentReconciliation,
  QuestionnaireResponse,
  Resource,
  Task,
} from '@medplum/fhirtypes';

/**
 * The project's stored records as FHIR R4 resources: one function per record kind, pure (the export service reads and
 * decrypts, this only reshapes). The table of which kind becomes which resource, and why, is in docs/privacy.md
 * ("Record kinds and their FHIR resources"); every resource validates against the R4 base definitions
 * (FhirValidator, @medplum/core), as the e2e tests check.
 */

/** The base of this project's code systems, extensions and identifier systems. */
export const FHIR_BASE = 'https://patient-journey.dev/fhir';
const SD = `${FHIR_BASE}/StructureDefinition`;
const CS = `${FHIR_BASE}/CodeSystem`;

/** The project's record kinds (the `?format=json` keys) → the resource types they become, in bundle order. */
export const KIND_RESOURCE_TYPES = {
  patients: ['Patient', 'Condition', 'AllergyIntolerance', 'MedicationStatement', 'Consent'],
  appointments: ['Appointment'],
  payments: ['Invoice', 'PaymentReconciliation'],
  communications: ['Communication'],
  survey_responses: ['QuestionnaireResponse'],
  treatment_plans: ['CarePlan'],
  referrals: ['Basic'],
  journey_events: ['Basic'],
  automation_enrollments: ['Task'],
  scores: ['Observation'],
  risk_history: ['Observation'],
  opportunities: ['Observation'],
} as const;

/** Every resource type an export can hold (the bulk export's `types`). */
export const EXPORT_RESOURCE_TYPES = [...new Set(Object.values(KIND_RESOURCE_TYPES).flat())] as readonly string[];

export interface FhirMappingContext {
  /** The organization's ISO 4217 currency (money values). */
  currency: string;
}

type Rec = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === null || v === undefined || v === '' ? undefined : String(v));
const num = (v: unknown): number | undefined => (v === null || v === undefined || Number.isNaN(Number(v)) ? undefined : Number(v));
const patientRef = (id: unknown): { reference: string } => ({ reference: `Patient/${String(id)}` });
const DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;

/** Drops undefined, null and empty arrays/objects: FHIR allows none of them. */
function compact<T>(value: T): T {
  // Loops rather than map/filter/Object.entries: it runs for every resource of a bulk export (millions).
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value as unknown[]) {
      const c = compact(v);
      if (!isEmpty(c)) out.push(c);
    }
    return out as T;
  }
  const out: Record<string, unknown> = {};
  const source = value as Record<string, unknown>;
  for (const k in source) {
    if (!Object.hasOwn(source, k)) continue;
    const c = compact(source[k]);
    if (!isEmpty(c)) out[k] = c;
  }
  return out as T;
}
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length === 0;
  for (const k in v) if (Object.hasOwn(v, k)) return false;
  return true;
}

function ext(name: string, value: Omit<Extension, 'url'>): Extension | undefined {
  const present = Object.values(value).some((v) => v !== undefined && v !== null);
  return present ? { url: `${SD}/${name}`, ...value } : undefined;
}

function identifier(r: Rec): Identifier[] | undefined {
  const source = str(r.source);
  const value = str(r.external_id);
  return source && value ? [{ system: `${FHIR_BASE}/source/${encodeURIComponent(source)}`, value }] : undefined;
}

const meta = (r: Rec): { lastUpdated?: string } => ({ lastUpdated: str(r.updated_at) });
const money = (value: unknown, ctx: FhirMappingContext): Money => ({ value: num(value), currency: ctx.currency as Money['currency'] });
const moneyQuantity = (value: unknown, ctx: FhirMappingContext) => ({
  value: num(value),
  unit: ctx.currency,
  system: 'urn:iso:std:iso:4217',
  code: ctx.currency,
});
const code = (system: string, c: string, display?: string) => ({
  coding: [{ system: `${CS}/${system}`, code: c, display }],
  text: display,
});

// ── patients: Patient, and what the patient row carries (conditions, allergies, medications, consents) ─────────
export function toPatient(r: Rec): Patient {
  const address = (r.address ?? null) as Rec | null;
  const prefs = (r.communication_preferences ?? {}) as Rec;
  const dob = str(r.date_of_birth);
  return compact<Patient>({
    resourceType: 'Patient',
    id: String(r.id),
    meta: meta(r),
    identifier: [
      ...(identifier(r) ?? []),
      ...((r.identifiers ?? []) as { system: string | null; value: string }[]).map((i) => ({ system: i.system ?? undefined, value: i.value })),
    ],
    active: r.deleted_at === null || r.deleted_at === undefined,
    name: [{ text: str(r.name) }],
    telecom: [
      str(r.phone)
        ? {
            system: 'phone' as const,
            value: str(r.phone),
            rank: prefs.preferred_channel === 'phone' || prefs.preferred_channel === 'sms' ? 1 : undefined,
          }
        : undefined,
      str(r.email)
        ? { system: 'email' as const, value: str(r.email), rank: prefs.preferred_channel === 'email' ? 1 : undefined }
        : undefined,
    ].filter((t) => t !== undefined),
    birthDate: dob && DATE.test(dob) ? dob : undefined,
    address: address
      ? [
          {
            line: str(address.street) ? [String(address.street)] : undefined,
            city: str(address.city),
            state: str(address.state),
            postalCode: str(address.zip),
          },
        ]
      : undefined,
    extension: [
      ext('preferred-channel', { valueCode: str(prefs.preferred_channel) }),
      ext('registered-at', { valueDateTime: str(r.registered_at) }),
      ext('deleted-at', { valueDateTime: str(r.deleted_at) }),
      ext('referred-by', { valueReference: r.referred_by_id ? patientRef(r.referred_by_id) : undefined }),
      dob && !DATE.test(dob) ? ext('date-of-birth-as-recorded', { valueString: dob }) : undefined,
    ].filter((e): e is Extension => e !== undefined),
  });
}

export function toConditions(r: Rec): Condition[] {
  return ((r.conditions ?? []) as string[]).map((c, i) =>
    compact<Condition>({
      resourceType: 'Condition',
      id: `${String(r.id)}-condition-${i}`,
      meta: meta(r),
      subject: patientRef(r.id),
      code: { text: c },
    }),
  );
}

export function toAllergies(r: Rec): AllergyIntolerance[] {
  return ((r.allergies ?? []) as string[]).map((a, i) =>
    compact<AllergyIntolerance>({
      resourceType: 'AllergyIntolerance',
      id: `${String(r.id)}-allergy-${i}`,
      meta: meta(r),
      // On the patient's current allergy list: active (R4 requires a clinical status, ait-1).
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: patientRef(r.id),
      code: { text: a },
    }),
  );
}

export function toMedications(r: Rec): MedicationStatement[] {
  return ((r.medications ?? []) as string[]).map((m, i) =>
    compact<MedicationStatement>({
      resourceType: 'MedicationStatement',
      id: `${String(r.id)}-medication-${i}`,
      meta: meta(r),
      // The record says the patient takes it, not since when or whether still: "unknown" is the honest status.
      status: 'unknown',
      subject: patientRef(r.id),
      medicationCodeableConcept: { text: m },
    }),
  );
}

/** The two consents the patient row records: marketing, and appointment reminders (each a permit or a deny). */
export function toConsents(r: Rec): Consent[] {
  const prefs = (r.communication_preferences ?? {}) as Rec;
  const consent = (suffix: string, purpose: string, display: string, granted: boolean): Consent =>
    compact<Consent>({
      resourceType: 'Consent',
      id: `${String(r.id)}-consent-${suffix}`,
      meta: meta(r),
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
      patient: patientRef(r.id),
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: granted ? 'OPTIN' : 'OPTOUT' }] },
      provision: { type: granted ? 'permit' : 'deny', purpose: [{ system: `${CS}/consent-purpose`, code: purpose, display }] },
    });
  return [
    consent('marketing', 'marketing', 'Marketing messages', prefs.marketing_consent === true),
    consent('reminders', 'appointment-reminders', 'Appointment reminders', prefs.appointment_reminders === true),
  ];
}

// ── the patient's history ──────────────────────────────────────────────────────────────────────────────────
const APPOINTMENT_STATUS: Record<string, Appointment['status']> = {
  scheduled: 'booked',
  completed: 'fulfilled',
  cancelled: 'cancelled',
  no_show: 'noshow',
};

export function toAppointment(r: Rec, ctx: FhirMappingContext): Appointment {
  return compact<Appointment>({
    resourceType: 'Appointment',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    status: APPOINTMENT_STATUS[String(r.status)] ?? 'booked',
    appointmentType: { text: str(r.type) },
    // Only the start is recorded: the end is the start (R4 requires both for a booked appointment; docs/privacy.md).
    start: str(r.starts_at),
    end: str(r.starts_at),
    comment: str(r.notes),
    participant: [{ actor: patientRef(r.patient_id), status: 'accepted' }],
    extension: [
      ext('appointment-value', { valueMoney: money(r.value, ctx) }),
      ext('status-as-recorded', { valueCode: str(r.status) }),
    ].filter((e): e is Extension => e !== undefined),
  });
}

const INVOICE_STATUS: Record<string, Invoice['status']> = {
  paid: 'balanced',
  pending: 'issued',
  overdue: 'issued',
  failed: 'cancelled',
  refunded: 'cancelled',
};

/** A charge is an Invoice; a payment or a refund (negative amount) a PaymentReconciliation. */
export function toPayment(r: Rec, ctx: FhirMappingContext): Invoice | PaymentReconciliation {
  const recorded = [ext('payment-kind', { valueCode: str(r.kind) }), ext('payment-status', { valueCode: str(r.status) })];
  if (r.kind === 'charge') {
    return compact<Invoice>({
      resourceType: 'Invoice',
      id: String(r.id),
      meta: meta(r),
      identifier: identifier(r),
      status: INVOICE_STATUS[String(r.status)] ?? 'issued',
      subject: patientRef(r.patient_id),
      date: str(r.occurred_at),
      totalGross: money(r.amount, ctx),
      extension: recorded.filter((e): e is Extension => e !== undefined),
    });
  }
  const amount = num(r.amount) ?? 0;
  return compact<PaymentReconciliation>({
    resourceType: 'PaymentReconciliation',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    status: r.status === 'failed' ? 'cancelled' : 'active',
    outcome: r.status === 'failed' ? 'error' : r.status === 'pending' ? 'queued' : 'complete',
    created: String(r.occurred_at),
    paymentDate: String(r.occurred_at).slice(0, 10),
    paymentAmount: money(r.kind === 'refund' ? -amount : amount, ctx),
    // PaymentReconciliation has no patient element in R4: the patient is an extension.
    extension: [ext('patient', { valueReference: patientRef(r.patient_id) }), ...recorded].filter((e): e is Extension => e !== undefined),
  });
}

const MEDIUM: Record<string, string> = { phone: 'PHONE', sms: 'SMSWRIT', email: 'EMAILWRIT', whatsapp: 'SMSWRIT' };

export function toCommunication(r: Rec): Communication {
  const inbound = r.direction === 'inbound';
  return compact<Communication>({
    resourceType: 'Communication',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    status: 'completed',
    category: [code('communication-kind', String(r.kind), String(r.kind))],
    medium: [
      {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode', code: MEDIUM[String(r.channel)] }],
        text: str(r.channel),
      },
    ],
    subject: patientRef(r.patient_id),
    sent: inbound ? undefined : str(r.occurred_at),
    received: inbound ? str(r.occurred_at) : undefined,
    sender: inbound ? patientRef(r.patient_id) : undefined,
    recipient: inbound ? undefined : [patientRef(r.patient_id)],
    note: str(r.notes) ? [{ text: String(r.notes) }] : undefined,
    extension: [
      ext('direction', { valueCode: str(r.direction) }),
      ext('responded-at', { valueDateTime: str(r.responded_at) }),
      ext('outcome', { valueString: str(r.outcome) }),
    ].filter((e): e is Extension => e !== undefined),
  });
}

export function toQuestionnaireResponse(r: Rec): QuestionnaireResponse {
  return compact<QuestionnaireResponse>({
    resourceType: 'QuestionnaireResponse',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r)?.[0],
    questionnaire: `${FHIR_BASE}/Questionnaire/patient-satisfaction`,
    status: 'completed',
    subject: patientRef(r.patient_id),
    authored: str(r.submitted_at),
    item: [
      num(r.satisfaction) !== undefined
        ? { linkId: 'satisfaction', text: 'Satisfaction (1-5)', answer: [{ valueInteger: num(r.satisfaction) }] }
        : undefined,
      num(r.nps) !== undefined
        ? { linkId: 'nps', text: 'Likelihood to recommend (0-10)', answer: [{ valueInteger: num(r.nps) }] }
        : undefined,
      { linkId: 'complaint', text: 'Complaint', answer: [{ valueBoolean: r.complaint === true }] },
      str(r.comment) ? { linkId: 'comment', text: 'Comment', answer: [{ valueString: String(r.comment) }] } : undefined,
    ].filter((i) => i !== undefined),
  });
}

const CAREPLAN_STATUS: Record<string, CarePlan['status']> = { active: 'active', completed: 'completed', abandoned: 'revoked' };

export function toCarePlan(r: Rec, ctx: FhirMappingContext): CarePlan {
  return compact<CarePlan>({
    resourceType: 'CarePlan',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    status: CAREPLAN_STATUS[String(r.status)] ?? 'unknown',
    intent: 'plan',
    title: str(r.name),
    description: `${String(r.completed_sessions)} of ${String(r.planned_sessions)} sessions completed`,
    subject: patientRef(r.patient_id),
    period: { start: str(r.started_at), end: str(r.ends_at) },
    extension: [
      ext('planned-sessions', { valueInteger: num(r.planned_sessions) }),
      ext('completed-sessions', { valueInteger: num(r.completed_sessions) }),
      ext('session-value', { valueMoney: money(r.session_value, ctx) }),
      ext('status-as-recorded', { valueCode: str(r.status) }),
    ].filter((e): e is Extension => e !== undefined),
  });
}

/** A referral between two patients (no closer R4 resource than Basic): the referrer is the author, the referred the subject. */
export function toReferral(r: Rec): Basic {
  return compact<Basic>({
    resourceType: 'Basic',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    code: code('record-kind', 'referral', 'Patient referral'),
    subject: r.referred_patient_id == null ? undefined : patientRef(r.referred_patient_id),
    author: patientRef(r.referrer_patient_id),
    created: str(r.referred_at)?.slice(0, 10),
    extension: [ext('referred-at', { valueDateTime: str(r.referred_at) })].filter((e): e is Extension => e !== undefined),
  });
}

export function toJourneyEvent(r: Rec): Basic {
  return compact<Basic>({
    resourceType: 'Basic',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    code: code('record-kind', 'journey-event', 'Patient journey event'),
    subject: patientRef(r.patient_id),
    created: str(r.occurred_at)?.slice(0, 10),
    extension: [
      ext('occurred-at', { valueDateTime: str(r.occurred_at) }),
      ext('journey-stage', { valueString: str(r.stage) }),
      ext('outcome', { valueString: str(r.outcome) }),
      ext('details', { valueString: r.details === null || r.details === undefined ? undefined : JSON.stringify(r.details) }),
    ].filter((e): e is Extension => e !== undefined),
  });
}

const TASK_STATUS: Record<string, Task['status']> = {
  active: 'in-progress',
  paused: 'on-hold',
  completed: 'completed',
  cancelled: 'cancelled',
};

export function toTask(r: Rec): Task {
  return compact<Task>({
    resourceType: 'Task',
    id: String(r.id),
    meta: meta(r),
    identifier: identifier(r),
    status: TASK_STATUS[String(r.status)] ?? 'in-progress',
    intent: 'plan',
    code: code('record-kind', 'automation-enrollment', 'Automated outreach sequence'),
    description: str(r.sequence),
    businessStatus: { text: str(r.step) },
    for: patientRef(r.patient_id),
    authoredOn: str(r.enrolled_at),
    executionPeriod: { start: str(r.enrolled_at) },
    extension: [
      ext('step-index', { valueInteger: num(r.step_index) }),
      ext('total-steps', { valueInteger: num(r.total_steps) }),
      ext('next-action', { valueString: str(r.next_action) }),
      ext('next-action-at', { valueDateTime: str(r.next_action_at) }),
    ].filter((e): e is Extension => e !== undefined),
  });
}

// ── computed: scores, risk history, reengagement opportunity (Observations) ─────────────────────────────────
const component = (c: string, display: string, value: Omit<ObservationComponent, 'code'>): ObservationComponent | undefined =>
  Object.values(value).some(
    (v) => v !== undefined && (typeof v !== 'object' || Object.values(v as object).some((x) => x !== undefined && x !== null)),
  )
    ? { code: code('score', c, display), ...value }
    : undefined;
const observation = (id: string, r: Rec, c: string, display: string, rest: Partial<Observation>): Observation =>
  compact<Observation>({
    resourceType: 'Observation',
    id,
    meta: meta(r),
    status: 'final',
    code: code('score', c, display),
    subject: patientRef(r.patient_id),
    ...rest,
  });

export function toScores(r: Rec, ctx: FhirMappingContext): Observation {
  const components = [
    component('status', 'Patient status', { valueString: str(r.status) }),
    component('risk-score', 'Risk score (0-100)', { valueQuantity: { value: num(r.risk_score) } }),
    component('risk-level', 'Risk level', { valueString: str(r.risk_level) }),
    component('risk-trend', 'Risk trend', { valueString: str(r.risk_trend) }),
    component('risk-factors', 'Risk factors (JSON)', { valueString: JSON.stringify(r.risk_factors ?? []) }),
    component('engagement-score', 'Engagement score (0-100)', { valueQuantity: { value: num(r.engagement_score) } }),
    component('lifetime-value', 'Lifetime value', { valueQuantity: moneyQuantity(r.lifetime_value, ctx) }),
    component('historical-revenue', 'Historical revenue', { valueQuantity: moneyQuantity(r.historical_revenue, ctx) }),
    component('future-value', 'Predicted future value', { valueQuantity: moneyQuantity(r.future_value, ctx) }),
    component('referral-value', 'Referral value', { valueQuantity: moneyQuantity(r.referral_value, ctx) }),
    component('total-sessions', 'Total sessions', { valueInteger: num(r.total_sessions) }),
    component('avg-session-value', 'Average session value', { valueQuantity: moneyQuantity(r.avg_session_value, ctx) }),
    component('success-probability', 'Reengagement success probability', { valueQuantity: { value: num(r.success_probability) } }),
    component('first-visit-at', 'First visit', { valueDateTime: str(r.first_visit_at) }),
    component('last-appointment-at', 'Last appointment', { valueDateTime: str(r.last_appointment_at) }),
    component('next-appointment-at', 'Next appointment', { valueDateTime: str(r.next_appointment_at) }),
    component('last-contact-at', 'Last contact', { valueDateTime: str(r.last_contact_at) }),
  ].filter((c): c is ObservationComponent => c !== undefined);
  return observation(`${String(r.patient_id)}-scores`, r, 'patient-scores', 'Computed patient scores', {
    effectiveDateTime: str(r.computed_at),
    component: components,
  });
}

export function toRiskHistory(r: Rec): Observation {
  return observation(`${String(r.patient_id)}-risk-${String(r.recorded_on)}`, r, 'risk-score', 'Risk score (0-100)', {
    effectiveDateTime: str(r.recorded_on),
    valueQuantity: { value: num(r.risk_score) },
  });
}

export function toOpportunity(r: Rec, ctx: FhirMappingContext): Observation {
  return observation(`${String(r.patient_id)}-opportunity`, r, 'reengagement-opportunity', 'Reengagement opportunity', {
    effectiveDateTime: str(r.computed_at),
    component: [
      component('opportunity-type', 'Opportunity type', { valueString: str(r.opportunity_type) }),
      component('priority', 'Priority', { valueString: str(r.priority) }),
      component('outreach', 'Suggested outreach', { valueString: str(r.outreach) }),
      component('channel', 'Channel', { valueString: str(r.channel) }),
      component('status', 'Patient status', { valueString: str(r.patient_status) }),
      component('estimated-value', 'Estimated value', { valueQuantity: moneyQuantity(r.estimated_value, ctx) }),
      component('success-probability', 'Success probability', { valueQuantity: { value: num(r.success_probability) } }),
      component('expected-return', 'Expected return', { valueQuantity: moneyQuantity(r.expected_return, ctx) }),
      component('last-contact-at', 'Last contact', { valueDateTime: str(r.last_contact_at) }),
      component('expected-visit-at', 'Expected visit', { valueDateTime: str(r.expected_visit_at) }),
    ].filter((c): c is ObservationComponent => c !== undefined),
  });
}

/** The resources one export record of `kind` becomes (a patient row: its Patient, conditions, allergies, medications, consents). */
export function toFhirResources(kind: keyof typeof KIND_RESOURCE_TYPES, r: Rec, ctx: FhirMappingContext): Resource[] {
  switch (kind) {
    case 'patients':
      return [toPatient(r), ...toConditions(r), ...toAllergies(r), ...toMedications(r), ...toConsents(r)];
    case 'appointments':
      return [toAppointment(r, ctx)];
    case 'payments':
      return [toPayment(r, ctx)];
    case 'communications':
      return [toCommunication(r)];
    case 'survey_responses':
      return [toQuestionnaireResponse(r)];
    case 'treatment_plans':
      return [toCarePlan(r, ctx)];
    case 'referrals':
      return [toReferral(r)];
    case 'journey_events':
      return [toJourneyEvent(r)];
    case 'automation_enrollments':
      return [toTask(r)];
    case 'scores':
      return [toScores(r, ctx)];
    case 'risk_history':
      return [toRiskHistory(r)];
    case 'opportunities':
      return [toOpportunity(r, ctx)];
  }
}
