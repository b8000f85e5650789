import type {
  AllergyIntolerance,
  Appointment,
  CarePlan,
  Claim,
  CodeableConcept,
  Communication,
  Condition,
  Consent,
  ContactPoint,
  Encounter,
  ExplanationOfBenefit,
  HumanName,
  Invoice,
  MedicationRequest,
  MedicationStatement,
  Money,
  OperationOutcomeIssue,
  Patient,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
} from '@medplum/fhirtypes';
import { issue } from 'src/fhir-import/domain/operation-outcome';
import { patientRefOf } from 'src/fhir-import/domain/references';
import type { PatientIdentifierValue } from 'src/records/identifiers/patient-identifiers';

/** The patient's medical lists that FHIR resources feed (columns of the patient record). */
export type MedicalList = 'conditions' | 'allergies' | 'medications';

/** Which FHIR element each ingestion field comes from: an ingestion error on a field names that element. */
export type FieldElements = Record<string, string>;

/**
 * What one FHIR resource becomes (docs/fhir.md has the table):
 * - `patient`: a patient record (its medical lists are added by the import from the list items);
 * - `list-item`: an item of its patient's medical list (`item` null: not active, off the list);
 * - `record`: an ingestion record (appointment, payment, treatment plan, communication, survey response) of a patient;
 * - `skipped`: a resource type (or a resource) the app has no use for: counted, never an error;
 * - `invalid`: the resource cannot be mapped, with the issues naming the elements at fault.
 */
export type Mapped =
  | { kind: 'patient'; record: Record<string, unknown>; elements: FieldElements; identifiers: PatientIdentifierValue[] }
  | { kind: 'list-item'; patientRef: string; list: MedicalList; item: string | null }
  | { kind: 'record'; patientRef: string; record: Record<string, unknown>; elements: FieldElements; settles?: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'invalid'; issues: OperationOutcomeIssue[] };

/** Longest text the ingestion takes per field; longer FHIR texts are cut (names of codes run long). */
const cut = (s: string, n: number): string => (s.length > n ? s.slice(0, n) : s);

/** The external id of a non-patient record: `Type/id` (ids are unique per type only). Patients keep their bare id. */
export const externalIdOf = (resourceType: string, id: string): string => `${resourceType}/${id}`;

export function conceptText(c: CodeableConcept | undefined): string | null {
  if (!c) return null;
  const t = c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.find((x) => x.code)?.code;
  return t ? t.trim() || null : null;
}

/**
 * A FHIR date or dateTime as the ingestion's timestamp: a date alone (`2024-05-10`, or partial `2024-05`, `2024`) is
 * the start of that day in UTC; a dateTime (which carries its zone when it has a time) is kept.
 */
export function instantOf(v: string | undefined | null): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(v);
  return m ? `${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}T00:00:00Z` : v;
}

const money = (m: Money | undefined): number | null =>
  typeof m?.value === 'number' && Number.isFinite(m.value) ? Math.round(Math.abs(m.value) * 100) / 100 : null;

/** The resource types the import maps (the others are skipped, and only checked to be FHIR resource types). */
export const IMPORTED_TYPES: ReadonlySet<string> = new Set([
  'Patient',
  'Encounter',
  'Appointment',
  'Condition',
  'AllergyIntolerance',
  'MedicationRequest',
  'MedicationStatement',
  'Claim',
  'ExplanationOfBenefit',
  'Invoice',
  'CarePlan',
  'Communication',
  'QuestionnaireResponse',
  'Consent',
]);

/** Maps one valid FHIR R4 resource (already checked by the FHIR validator) of a source. */
export function mapResource(resource: Resource, source: string): Mapped {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the 140-odd other types are skipped (default)
  switch (resource.resourceType) {
    case 'Patient':
      return mapPatient(resource, source);
    case 'Encounter':
      return mapEncounter(resource, source);
    case 'Appointment':
      return mapAppointment(resource, source);
    case 'Condition':
      return mapCondition(resource);
    case 'AllergyIntolerance':
      return mapAllergy(resource);
    case 'MedicationRequest':
    case 'MedicationStatement':
      return mapMedication(resource);
    case 'Claim':
      return mapClaim(resource, source);
    case 'ExplanationOfBenefit':
      return mapEob(resource, source);
    case 'Invoice':
      return mapInvoice(resource, source);
    case 'CarePlan':
      return mapCarePlan(resource, source);
    case 'Communication':
      return mapCommunication(resource, source);
    case 'QuestionnaireResponse':
      return mapQuestionnaireResponse(resource, source);
    case 'Consent':
      return mapConsent(resource, source);
    default:
      return { kind: 'skipped', reason: `${resource.resourceType} is not imported` };
  }
}

const missing = (expression: string, what: string): Mapped => ({
  kind: 'invalid',
  issues: [issue('required', `${what} is required to import this resource`, expression)],
});

const noPatient = (expression: string): Mapped => ({
  kind: 'invalid',
  issues: [
    issue(
      'required',
      'must reference a Patient (Patient/<id>, the urn:uuid: of a Patient entry of the same Bundle, or { identifier: { system, value } })',
      expression,
    ),
  ],
});

function displayName(names: HumanName[] | undefined): string | null {
  if (!names || names.length === 0) return null;
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use === 'usual') ?? names[0];
  const text = n.text?.trim() || [...(n.given ?? []), n.family ?? ''].join(' ').replace(/\s+/g, ' ').trim();
  return text || null;
}

const byRank = (a: ContactPoint, b: ContactPoint): number => (a.rank ?? Number.MAX_SAFE_INTEGER) - (b.rank ?? Number.MAX_SAFE_INTEGER);

function contact(telecom: ContactPoint[] | undefined, system: ContactPoint['system']): string | null {
  const live = (telecom ?? []).filter((t) => t.system === system && t.value && !t.period?.end).sort(byRank);
  return live[0]?.value?.trim() ?? null;
}

/** A patient keeps at most this many identifiers (a Synthea patient has 5). */
const MAX_IDENTIFIERS = 50;

/** The patient's identifiers with a value (system `''` when absent), without repeats: kept as their external ids. */
function identifiersOf(p: Patient): PatientIdentifierValue[] {
  const out = new Map<string, PatientIdentifierValue>();
  for (const i of p.identifier ?? []) {
    if (typeof i.value !== 'string' || i.value === '' || out.size >= MAX_IDENTIFIERS) continue;
    const system = i.system ?? '';
    out.set(`${system}\u0000${i.value}`, { system, value: i.value });
  }
  return [...out.values()];
}

const CHANNEL_OF: Partial<Record<NonNullable<ContactPoint['system']>, string>> = { phone: 'phone', sms: 'sms', email: 'email' };

function mapPatient(p: Patient, source: string): Mapped {
  const name = displayName(p.name);
  if (!name) return missing('Patient.name', 'A name (text, or given and family)');
  const address = (p.address ?? []).find((a) => a.use === 'home' && !a.period?.end) ?? p.address?.[0];
  const preferred = (p.telecom ?? []).filter((t) => t.rank !== undefined && t.system && CHANNEL_OF[t.system]).sort(byRank)[0];
  const record: Record<string, unknown> = {
    record_type: 'patient',
    source,
    external_id: p.id,
    name: cut(name, 200),
    phone: contact(p.telecom, 'phone'),
    email: contact(p.telecom, 'email'),
    // Only a full date: FHIR allows `YYYY` and `YYYY-MM`, which say too little for an age.
    date_of_birth: p.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(p.birthDate) ? p.birthDate : null,
    address: address
      ? {
          street: address.line?.length ? cut(address.line.join(', '), 200) : null,
          city: address.city ? cut(address.city, 100) : null,
          state: address.state ? cut(address.state, 50) : null,
          zip: address.postalCode ? cut(address.postalCode, 20) : null,
        }
      : null,
    ...(preferred?.system ? { preferred_channel: CHANNEL_OF[preferred.system] } : {}),
  };
  return {
    kind: 'patient',
    record,
    identifiers: identifiersOf(p),
    elements: {
      name: 'Patient.name',
      phone: 'Patient.telecom',
      email: 'Patient.telecom',
      date_of_birth: 'Patient.birthDate',
      address: 'Patient.address',
      external_id: 'Patient.id',
    },
  };
}

const ENCOUNTER_STATUS: Record<Encounter['status'], string> = {
  planned: 'scheduled',
  arrived: 'scheduled',
  triaged: 'scheduled',
  'in-progress': 'scheduled',
  onleave: 'scheduled',
  finished: 'completed',
  cancelled: 'cancelled',
  'entered-in-error': 'cancelled',
  unknown: 'completed',
};

function mapEncounter(e: Encounter, source: string): Mapped {
  const patientRef = patientRefOf(e.subject);
  if (!patientRef) return noPatient('Encounter.subject');
  const start = e.period?.start;
  if (!start) return missing('Encounter.period.start', 'The start of the encounter');
  const type = conceptText(e.type?.[0]) ?? conceptText(e.serviceType) ?? e.class?.display ?? e.class?.code ?? 'Encounter';
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'appointment',
      source,
      external_id: externalIdOf('Encounter', e.id ?? ''),
      patient_external_id: patientRef,
      starts_at: instantOf(start),
      type: cut(type, 100),
      status: ENCOUNTER_STATUS[e.status],
    },
    elements: {
      starts_at: 'Encounter.period.start',
      type: 'Encounter.type',
      status: 'Encounter.status',
      patient_external_id: 'Encounter.subject',
      external_id: 'Encounter.id',
    },
  };
}

const APPOINTMENT_STATUS: Record<Appointment['status'], string> = {
  proposed: 'scheduled',
  pending: 'scheduled',
  booked: 'scheduled',
  arrived: 'scheduled',
  'checked-in': 'scheduled',
  waitlist: 'scheduled',
  fulfilled: 'completed',
  cancelled: 'cancelled',
  noshow: 'no_show',
  'entered-in-error': 'cancelled',
};

function mapAppointment(a: Appointment, source: string): Mapped {
  const at = (a.participant ?? []).findIndex((p) => patientRefOf(p.actor, true) !== null);
  if (at < 0) return noPatient('Appointment.participant.actor');
  const patientRef = patientRefOf(a.participant[at].actor, true) as string;
  if (!a.start) return missing('Appointment.start', 'The start of the appointment');
  const type = conceptText(a.appointmentType) ?? conceptText(a.serviceType?.[0]) ?? a.description ?? 'Appointment';
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'appointment',
      source,
      external_id: externalIdOf('Appointment', a.id ?? ''),
      patient_external_id: patientRef,
      starts_at: instantOf(a.start),
      type: cut(type, 100),
      status: APPOINTMENT_STATUS[a.status],
    },
    elements: {
      starts_at: 'Appointment.start',
      type: 'Appointment.appointmentType',
      status: 'Appointment.status',
      patient_external_id: `Appointment.participant[${at}].actor`,
      external_id: 'Appointment.id',
    },
  };
}

const activeCode = (c: CodeableConcept | undefined): string | undefined => c?.coding?.find((x) => x.code)?.code;

function mapCondition(c: Condition): Mapped {
  const patientRef = patientRefOf(c.subject);
  if (!patientRef) return noPatient('Condition.subject');
  const text = conceptText(c.code);
  if (!text) return missing('Condition.code', 'A code or its text');
  // On the list while clinically active (active, recurrence, relapse; no status: active) and not refuted/entered in error.
  const clinical = activeCode(c.clinicalStatus);
  const verification = activeCode(c.verificationStatus);
  const active =
    (clinical === undefined || ['active', 'recurrence', 'relapse'].includes(clinical)) &&
    verification !== 'refuted' &&
    verification !== 'entered-in-error';
  return { kind: 'list-item', patientRef, list: 'conditions', item: active ? cut(text, 200) : null };
}

function mapAllergy(a: AllergyIntolerance): Mapped {
  const patientRef = patientRefOf(a.patient);
  if (!patientRef) return noPatient('AllergyIntolerance.patient');
  const text = conceptText(a.code);
  if (!text) return missing('AllergyIntolerance.code', 'A code or its text');
  const clinical = activeCode(a.clinicalStatus);
  const verification = activeCode(a.verificationStatus);
  const active = (clinical === undefined || clinical === 'active') && verification !== 'refuted' && verification !== 'entered-in-error';
  return { kind: 'list-item', patientRef, list: 'allergies', item: active ? cut(text, 200) : null };
}

function mapMedication(m: MedicationRequest | MedicationStatement): Mapped {
  const patientRef = patientRefOf(m.subject);
  if (!patientRef) return noPatient(`${m.resourceType}.subject`);
  const text = conceptText(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? null;
  if (!text) return missing(`${m.resourceType}.medication[x]`, 'A medication code, its text or a display');
  const active = m.status === 'active' || (m.resourceType === 'MedicationStatement' && m.status === 'intended');
  return { kind: 'list-item', patientRef, list: 'medications', item: active ? cut(text, 200) : null };
}

function claimAmount(c: Claim): number | null {
  const total = money(c.total);
  if (total !== null) return total;
  const items = (c.item ?? []).map((i) => money(i.net)).filter((v): v is number => v !== null);
  return items.length > 0 ? Math.round(items.reduce((a, b) => a + b, 0) * 100) / 100 : null;
}

/** A Claim: the service's charge, pending until its ExplanationOfBenefit settles it (the payment keyed by the Claim). */
function mapClaim(c: Claim, source: string): Mapped {
  const patientRef = patientRefOf(c.patient);
  if (!patientRef) return noPatient('Claim.patient');
  const amount = claimAmount(c);
  if (amount === null) return missing('Claim.total', 'A total (or item net amounts)');
  const at = c.billablePeriod?.start ?? c.created;
  const status = c.status === 'cancelled' || c.status === 'entered-in-error' ? 'failed' : 'pending';
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'payment',
      source,
      external_id: externalIdOf('Claim', c.id ?? ''),
      patient_external_id: patientRef,
      occurred_at: instantOf(at),
      amount,
      kind: 'charge',
      status,
    },
    elements: {
      occurred_at: 'Claim.billablePeriod.start',
      amount: 'Claim.total',
      patient_external_id: 'Claim.patient',
      external_id: 'Claim.id',
    },
  };
}

/**
 * An ExplanationOfBenefit wins over its Claim: it is the payer's adjudication (what was actually paid), the Claim only
 * what was asked. It writes the payment keyed by its Claim (`Claim/<id>`), so one service is counted once whatever
 * arrives first; `settles` tells the import to remember it, so that a Claim sent later does not overwrite it.
 */
function mapEob(e: ExplanationOfBenefit, source: string): Mapped {
  const patientRef = patientRefOf(e.patient);
  if (!patientRef) return noPatient('ExplanationOfBenefit.patient');
  const benefit = e.total?.find((t) => t.category?.coding?.some((c) => c.code === 'benefit'));
  const amount = money(e.payment?.amount) ?? money(benefit?.amount) ?? money(e.total?.[0]?.amount);
  if (amount === null) return missing('ExplanationOfBenefit.payment.amount', 'A payment amount (or a total)');
  const claimId = /(?:^|\/)Claim\/([A-Za-z0-9\-.]{1,64})$/.exec(e.claim?.reference ?? '')?.[1];
  const externalId = claimId ? externalIdOf('Claim', claimId) : externalIdOf('ExplanationOfBenefit', e.id ?? '');
  const status =
    e.outcome === 'error' || e.status === 'cancelled' || e.status === 'entered-in-error'
      ? 'failed'
      : e.outcome === 'complete'
        ? 'paid'
        : 'pending';
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'payment',
      source,
      external_id: externalId,
      patient_external_id: patientRef,
      occurred_at: instantOf(e.payment?.date ?? e.billablePeriod?.start ?? e.created),
      amount,
      kind: 'payment',
      status,
    },
    elements: {
      occurred_at: 'ExplanationOfBenefit.payment.date',
      amount: 'ExplanationOfBenefit.payment.amount',
      patient_external_id: 'ExplanationOfBenefit.patient',
      external_id: 'ExplanationOfBenefit.id',
    },
    settles: externalId,
  };
}

const INVOICE_STATUS: Record<Invoice['status'], string | null> = {
  draft: null,
  issued: 'pending',
  balanced: 'paid',
  cancelled: 'failed',
  'entered-in-error': 'failed',
};

function mapInvoice(i: Invoice, source: string): Mapped {
  const patientRef = patientRefOf(i.subject) ?? patientRefOf(i.recipient, true);
  if (!patientRef) return noPatient('Invoice.subject');
  const status = INVOICE_STATUS[i.status];
  if (!status) return { kind: 'skipped', reason: 'a draft Invoice is not a payment yet' };
  const amount = money(i.totalGross) ?? money(i.totalNet);
  if (amount === null) return missing('Invoice.totalGross', 'A total');
  if (!i.date) return missing('Invoice.date', 'The invoice date');
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'payment',
      source,
      external_id: externalIdOf('Invoice', i.id ?? ''),
      patient_external_id: patientRef,
      occurred_at: instantOf(i.date),
      amount,
      kind: 'payment',
      status,
    },
    elements: {
      occurred_at: 'Invoice.date',
      amount: 'Invoice.totalGross',
      patient_external_id: 'Invoice.subject',
      external_id: 'Invoice.id',
    },
  };
}

const PLAN_STATUS: Record<CarePlan['status'], string> = {
  draft: 'active',
  active: 'active',
  'on-hold': 'active',
  completed: 'completed',
  revoked: 'abandoned',
  'entered-in-error': 'abandoned',
  unknown: 'active',
};

function mapCarePlan(c: CarePlan, source: string): Mapped {
  const patientRef = patientRefOf(c.subject);
  if (!patientRef) return noPatient('CarePlan.subject');
  const start = c.period?.start ?? c.created;
  if (!start) return missing('CarePlan.period.start', 'A start (period.start or created)');
  const activities = c.activity ?? [];
  const name = c.title ?? conceptText(c.category?.[0]) ?? 'Care plan';
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'treatment_plan',
      source,
      external_id: externalIdOf('CarePlan', c.id ?? ''),
      patient_external_id: patientRef,
      name: cut(name, 200),
      planned_sessions: activities.length,
      completed_sessions: activities.filter((a) => a.detail?.status === 'completed').length,
      status: PLAN_STATUS[c.status],
      started_at: instantOf(start),
      ends_at: instantOf(c.period?.end) ?? null,
    },
    elements: {
      name: 'CarePlan.title',
      started_at: 'CarePlan.period.start',
      ends_at: 'CarePlan.period.end',
      patient_external_id: 'CarePlan.subject',
      external_id: 'CarePlan.id',
    },
  };
}

/** v3 ParticipationMode codes of Communication.medium → channel. */
const MEDIUM: Record<string, 'phone' | 'sms' | 'email'> = {
  PHONE: 'phone',
  VC: 'phone',
  SMSWRIT: 'sms',
  EMAILWRIT: 'email',
  ELECTRONIC: 'email',
};

function mapCommunication(c: Communication, source: string): Mapped {
  const patientRef = patientRefOf(c.subject);
  if (!patientRef) return noPatient('Communication.subject');
  const at = c.sent ?? c.received;
  if (!at) return missing('Communication.sent', 'When it was sent (sent or received)');
  const code = c.medium?.flatMap((m) => m.coding ?? []).find((x) => x.code && MEDIUM[x.code])?.code;
  const channel = code ? MEDIUM[code] : 'email';
  const inbound = patientRefOf(c.sender, true) !== null;
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'communication',
      source,
      external_id: externalIdOf('Communication', c.id ?? ''),
      patient_external_id: patientRef,
      occurred_at: instantOf(at),
      channel,
      kind: channel === 'phone' ? 'call' : channel === 'email' ? 'email' : 'message',
      direction: inbound ? 'inbound' : 'outbound',
    },
    elements: {
      occurred_at: 'Communication.sent',
      channel: 'Communication.medium',
      patient_external_id: 'Communication.subject',
      external_id: 'Communication.id',
    },
  };
}

function flatItems(items: QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem[] {
  return (items ?? []).flatMap((i) => [i, ...flatItems(i.item)]);
}

function scoreOf(item: QuestionnaireResponseItem): number | null {
  const a = item.answer?.[0];
  if (!a) return null;
  if (typeof a.valueInteger === 'number') return a.valueInteger;
  if (typeof a.valueDecimal === 'number') return Math.round(a.valueDecimal);
  const code = a.valueCoding?.code ?? a.valueString;
  return code !== undefined && /^\d{1,2}$/.test(code) ? Number(code) : null;
}

/** A QuestionnaireResponse is a survey response when an item reads as satisfaction (1-5) or likelihood to recommend (0-10). */
function mapQuestionnaireResponse(q: QuestionnaireResponse, source: string): Mapped {
  const items = flatItems(q.item);
  const find = (pattern: RegExp, min: number, max: number): number | null => {
    for (const i of items) {
      if (!pattern.test(`${i.linkId} ${i.text ?? ''}`)) continue;
      const v = scoreOf(i);
      if (v !== null && v >= min && v <= max) return v;
    }
    return null;
  };
  const satisfaction = find(/satisf/i, 1, 5);
  const nps = find(/\bnps\b|recommend/i, 0, 10);
  if (satisfaction === null && nps === null) return { kind: 'skipped', reason: 'no satisfaction or recommendation item to read' };
  const patientRef = patientRefOf(q.subject) ?? patientRefOf(q.source, true);
  if (!patientRef) return noPatient('QuestionnaireResponse.subject');
  if (!q.authored) return missing('QuestionnaireResponse.authored', 'When it was answered');
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'survey_response',
      source,
      external_id: externalIdOf('QuestionnaireResponse', q.id ?? ''),
      patient_external_id: patientRef,
      submitted_at: instantOf(q.authored),
      satisfaction,
      nps,
    },
    elements: {
      submitted_at: 'QuestionnaireResponse.authored',
      satisfaction: 'QuestionnaireResponse.item',
      nps: 'QuestionnaireResponse.item',
      patient_external_id: 'QuestionnaireResponse.subject',
      external_id: 'QuestionnaireResponse.id',
    },
  };
}

/** Our own code systems, read first where a clinic's system can say exactly what it means. */
export const CONSENT_PURPOSE_SYSTEM = 'https://patient-journey.example/fhir/consent-purpose';
export const CONSENT_CHANNEL_SYSTEM = 'https://patient-journey.example/fhir/consent-channel';

const PURPOSES = ['appointment_reminders', 'marketing', 'analytics', 'research', 'data_sharing'] as const;
const CHANNELS = ['phone', 'sms', 'email', 'whatsapp'] as const;
type Purpose = (typeof PURPOSES)[number];

/** v3 ActReason purposes of use (Consent.provision.purpose) that name one of ours. */
const ACT_REASON: Record<string, Purpose> = {
  HMARKT: 'marketing',
  HRESCH: 'research',
  CLINTRCH: 'research',
  BIORCH: 'research',
  HQUALIMP: 'analytics',
  HSYSADMIN: 'analytics',
  HOPERAT: 'analytics',
};

/** Words in a category's or purpose's text or display (the last resort: EHRs often send local codes with a display). */
const PURPOSE_WORDS: [RegExp, Purpose][] = [
  [/remind/i, 'appointment_reminders'],
  [/marketing|newsletter|promotion/i, 'marketing'],
  [/research|clinical trial/i, 'research'],
  [/analytic|quality improvement|statistic/i, 'analytics'],
  [/shar|disclos|release of information/i, 'data_sharing'],
];

const conceptTexts = (c: CodeableConcept): string[] => [c.text ?? '', ...(c.coding ?? []).map((x) => x.display ?? '')];

/** What the consent is about: our code, else a v3 ActReason purpose, else the scope, else the words of its category. */
function consentPurpose(c: Consent): Purpose | null {
  const codings = [...(c.category ?? []).flatMap((x) => x.coding ?? []), ...(c.provision?.purpose ?? []), ...(c.scope?.coding ?? [])];
  const ours = codings.find((x) => x.system === CONSENT_PURPOSE_SYSTEM && PURPOSES.includes(x.code as Purpose));
  if (ours) return ours.code as Purpose;
  const reason = codings.find((x) => x.code && ACT_REASON[x.code])?.code;
  if (reason) return ACT_REASON[reason];
  const scope = c.scope?.coding?.find((x) => x.code)?.code;
  if (scope === 'research') return 'research';
  const texts = [...(c.category ?? []).flatMap(conceptTexts), ...(c.provision?.purpose ?? []).map((x) => x.display ?? '')].filter(Boolean);
  for (const [pattern, purpose] of PURPOSE_WORDS) if (texts.some((t) => pattern.test(t))) return purpose;
  // A privacy consent that says nothing more: the consent to share the patient's information.
  if (scope === 'patient-privacy') return 'data_sharing';
  return null;
}

/**
 * A Consent → a consent decision (the `consent` record type; decisions are never changed once stored, a newer one
 * supersedes). Decision: `active` + provision `permit` (or no provision type) → granted, `active` + `deny` or
 * `rejected` → denied, `inactive` → withdrawn; `draft` / `proposed` (not decided yet) and `entered-in-error` are skipped.
 * Purpose: our code system, else a v3 ActReason in `provision.purpose` (HMARKT → marketing, HRESCH / CLINTRCH / BIORCH
 * → research, HQUALIMP / HOPERAT / HSYSADMIN → analytics), else `scope` research, else the words of `category` /
 * `provision.purpose` (reminder, marketing, research, analytics, sharing), else a `patient-privacy` scope → data
 * sharing; treatment and advance-directive consents (nothing the app decides on) are skipped. Channel (reminders and
 * marketing only): a coding of our channel system in `category` / `provision.action`, else every channel.
 */
function mapConsent(c: Consent, source: string): Mapped {
  const decision =
    c.status === 'active'
      ? c.provision?.type === 'deny'
        ? 'denied'
        : 'granted'
      : c.status === 'rejected'
        ? 'denied'
        : c.status === 'inactive'
          ? 'withdrawn'
          : null;
  if (!decision) return { kind: 'skipped', reason: `a ${c.status} Consent is not a decision` };
  const purpose = consentPurpose(c);
  if (!purpose) return { kind: 'skipped', reason: 'a Consent about treatment or an advance directive is not a decision the app keeps' };
  const patientRef = patientRefOf(c.patient);
  if (!patientRef) return noPatient('Consent.patient');
  const contact = purpose === 'appointment_reminders' || purpose === 'marketing';
  const channel = contact
    ? ([...(c.category ?? []), ...(c.provision?.action ?? [])]
        .flatMap((x) => x.coding ?? [])
        .find((x) => x.system === CONSENT_CHANNEL_SYSTEM && CHANNELS.includes(x.code as (typeof CHANNELS)[number]))?.code ?? null)
    : null;
  const performer = c.performer?.find((p) => typeof p.reference === 'string')?.reference;
  const evidence = c.sourceAttachment?.title ?? c.sourceReference?.display ?? c.policyRule?.text ?? null;
  return {
    kind: 'record',
    patientRef,
    record: {
      record_type: 'consent',
      source,
      external_id: externalIdOf('Consent', c.id ?? ''),
      patient_external_id: patientRef,
      purpose,
      channel,
      decision,
      recorded_at: instantOf(c.dateTime) ?? null,
      consent_source: 'ehr_import',
      // A reference only (`Practitioner/12`): a display may be a person's name.
      ...(performer ? { recorded_by: cut(performer, 200) } : {}),
      expires_at: instantOf(c.provision?.period?.end) ?? null,
      evidence: evidence ? cut(evidence, 2000) : null,
    },
    elements: {
      purpose: 'Consent.category',
      channel: 'Consent.provision.action',
      decision: 'Consent.status',
      recorded_at: 'Consent.dateTime',
      recorded_by: 'Consent.performer',
      expires_at: 'Consent.provision.period.end',
      evidence: 'Consent.sourceAttachment',
      patient_external_id: 'Consent.patient',
      external_id: 'Consent.id',
    },
  };
}
