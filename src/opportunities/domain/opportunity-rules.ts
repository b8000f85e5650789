import { Channel } from 'src/records/records.enums';
import { knownVisitIntervalDays } from 'src/scoring/domain/visit-rhythm';
import { OpportunityPriority, OpportunityType, OutreachKind } from 'src/opportunities/opportunities.enums';
import { DAY_MS } from 'src/common/time/calendar';
import { ALL_CHANNELS, consentedChannel, grantToken } from 'src/consent/domain/consent-policy';
import { ConsentPurpose } from 'src/records/records.enums';

/**
 * Reengagement rules (docs/journey.md, "Opportunities"): pure functions over one patient's facts, no clock reads.
 */

/** Recall interval when the organization sets none (`organizations.settings.recall_interval_days`). */
export const DEFAULT_RECALL_DAYS = 180;
/** Days between sessions of an active treatment plan that has no end date and a patient with no usual interval. */
export const DEFAULT_PLAN_CADENCE_DAYS = 30;
/** A visit is overdue once `expected + max(OVERDUE_MIN_MARGIN_DAYS, OVERDUE_MARGIN_SHARE × interval)` has passed. */
export const OVERDUE_MIN_MARGIN_DAYS = 14;
export const OVERDUE_MARGIN_SHARE = 0.2;
/** The horizon of `estimated_value`. */
export const VALUE_HORIZON_DAYS = 365;

export interface ActivePlan {
  remainingSessions: number;
  sessionValueCents: number;
  startedAt: Date;
  endsAt: Date | null;
  plannedSessions: number;
}

export interface OpportunityFacts {
  patientId: string;
  /** From patient_metrics. */
  status: string;
  riskLevel: string;
  ltvCents: number;
  successProbability: number;
  avgSessionValueCents: number;
  lastContactAt: Date | null;
  nextAppointmentAt: Date | null;
  /** From the patient record: the effective consent (src/consent/domain/consent-policy.ts). */
  marketingConsent: boolean;
  appointmentReminders: boolean;
  /**
   * The effective grants (`patients.consent_grants`: `marketing:sms`...), which say on which channels. Absent: every
   * channel of the purposes the two flags grant.
   */
  consentGrants?: readonly string[];
  preferredChannel: Channel;
  /** Completed visits up to now. */
  visitCount: number;
  firstVisitAt: Date | null;
  lastVisitAt: Date | null;
  activePlan: ActivePlan | null;
  hasCompletedPlan: boolean;
}

export interface OrganizationRules {
  /** Top-quartile LTV threshold (75th percentile of the organization's `ltv_cents`). */
  ltvThresholdCents: number;
  recallDays: number;
}

export interface ExpectedVisit {
  at: Date;
  intervalDays: number;
  basis: 'treatment_plan' | 'usual_interval' | 'recall';
}

export interface Opportunity {
  patientId: string;
  type: OpportunityType;
  priority: OpportunityPriority;
  outreach: OutreachKind;
  channel: Channel;
  patientStatus: string;
  estimatedValueCents: number;
  successProbability: number;
  expectedReturnCents: number;
  lastContactAt: Date | null;
  expectedVisitAt: Date | null;
}

/**
 * The patient's usual days between visits (src/scoring/domain/visit-rhythm.ts, the risk score's and the journey's
 * notion): max(7, mean gap between their first and last completed visit); null with fewer than two visits.
 */
export function usualIntervalDays(f: Pick<OpportunityFacts, 'visitCount' | 'firstVisitAt' | 'lastVisitAt'>): number | null {
  return knownVisitIntervalDays({
    visits: f.visitCount,
    firstVisitAt: f.firstVisitAt?.getTime() ?? null,
    lastVisitAt: f.lastVisitAt?.getTime() ?? null,
  });
}

/**
 * When the patient's next visit was due: an active treatment plan's cadence first, then (outside maintenance)
 * their own usual interval, then the organization's recall schedule. null when they never visited.
 */
export function expectedNextVisit(f: OpportunityFacts, recallDays: number): ExpectedVisit | null {
  if (!f.lastVisitAt) return null;
  const usual = usualIntervalDays(f);
  let intervalDays: number;
  let basis: ExpectedVisit['basis'];
  if (f.activePlan) {
    const p = f.activePlan;
    intervalDays =
      p.endsAt && p.plannedSessions > 0
        ? (p.endsAt.getTime() - p.startedAt.getTime()) / DAY_MS / p.plannedSessions
        : (usual ?? DEFAULT_PLAN_CADENCE_DAYS);
    intervalDays = Math.max(intervalDays, 1);
    basis = 'treatment_plan';
  } else if (usual !== null && !f.hasCompletedPlan) {
    intervalDays = usual;
    basis = 'usual_interval';
  } else {
    intervalDays = recallDays;
    basis = 'recall';
  }
  return { at: new Date(f.lastVisitAt.getTime() + intervalDays * DAY_MS), intervalDays, basis };
}

export function isOverdue(expected: ExpectedVisit, now: Date): boolean {
  const marginDays = Math.max(OVERDUE_MIN_MARGIN_DAYS, OVERDUE_MARGIN_SHARE * expected.intervalDays);
  return now.getTime() > expected.at.getTime() + marginDays * DAY_MS;
}

/** Expected value of the patient's return over the next 12 months, in cents. */
export function estimatedValueCents(f: OpportunityFacts, expected: ExpectedVisit | null, recallDays: number): number {
  const intervalDays = expected?.intervalDays ?? recallDays;
  const visitsPerHorizon = VALUE_HORIZON_DAYS / intervalDays;
  if (f.activePlan) {
    const sessionValue = f.activePlan.sessionValueCents > 0 ? f.activePlan.sessionValueCents : f.avgSessionValueCents;
    return Math.round(Math.min(f.activePlan.remainingSessions, visitsPerHorizon) * sessionValue);
  }
  return Math.round(visitsPerHorizon * f.avgSessionValueCents);
}

/**
 * The patient's opportunity, or null. A patient with an upcoming appointment is never one. When several types
 * apply, the most valuable wins: high_value_risk, then overdue_appointment, then inactive_patient.
 */
export function classify(f: OpportunityFacts, org: OrganizationRules, now: Date): Opportunity | null {
  if (f.nextAppointmentAt && f.nextAppointmentAt.getTime() > now.getTime()) return null;
  const expected = expectedNextVisit(f, org.recallDays);
  const overdue = expected !== null && isOverdue(expected, now);
  const inactive = f.status === 'dormant' || f.status === 'at_risk';
  const highValueRisk = f.riskLevel === 'high' && f.ltvCents > 0 && f.ltvCents >= org.ltvThresholdCents;

  let type: OpportunityType;
  let priority: OpportunityPriority;
  if (highValueRisk) {
    type = OpportunityType.HighValueRisk;
    priority = OpportunityPriority.High;
  } else if (overdue) {
    type = OpportunityType.OverdueAppointment;
    priority = f.activePlan ? OpportunityPriority.High : OpportunityPriority.Medium;
  } else if (inactive) {
    type = OpportunityType.InactivePatient;
    priority = f.status === 'dormant' ? OpportunityPriority.Medium : OpportunityPriority.Low;
  } else {
    return null;
  }

  const estimated = estimatedValueCents(f, expected, org.recallDays);
  const probability = Math.min(Math.max(Number.isFinite(f.successProbability) ? f.successProbability : 0, 0), 1);
  const { outreach, channel } = outreachWithChannel(type, overdue, f);
  return {
    patientId: f.patientId,
    type,
    priority,
    outreach,
    channel,
    patientStatus: f.status,
    estimatedValueCents: estimated,
    successProbability: probability,
    expectedReturnCents: estimated * probability,
    lastContactAt: f.lastContactAt,
    expectedVisitAt: expected?.at ?? null,
  };
}

/**
 * Consent decides the outreach: an offer is marketing and needs `marketing_consent`; a reminder of a due visit
 * needs `appointment_reminders`. Without the consent the suggestion is to raise it at the patient's next contact.
 */
export function outreachFor(
  type: OpportunityType,
  overdue: boolean,
  f: Pick<OpportunityFacts, 'marketingConsent' | 'appointmentReminders'> &
    Partial<Pick<OpportunityFacts, 'consentGrants' | 'preferredChannel'>>,
): OutreachKind {
  return outreachWithChannel(type, overdue, { preferredChannel: 'email', ...f }).outreach;
}

/** The grants of the facts: `consentGrants`, or every channel of the purposes the two flags grant. */
function grantsOf(f: Pick<OpportunityFacts, 'marketingConsent' | 'appointmentReminders' | 'consentGrants'>): readonly string[] {
  if (f.consentGrants) return f.consentGrants;
  const purposes = [
    ...(f.marketingConsent ? [ConsentPurpose.Marketing] : []),
    ...(f.appointmentReminders ? [ConsentPurpose.AppointmentReminders] : []),
  ];
  return purposes.flatMap((p) => ALL_CHANNELS.map((c) => grantToken(p, c)));
}

/**
 * The outreach and the channel it goes by, both as the patient consented: an offer only on a channel with marketing
 * granted, a reminder only on one with appointment reminders granted (the preferred channel when granted there,
 * else the first granted one); otherwise no message (`next_contact`, on the preferred channel, used by no one).
 */
export function outreachWithChannel(
  type: OpportunityType,
  overdue: boolean,
  f: Pick<OpportunityFacts, 'marketingConsent' | 'appointmentReminders' | 'consentGrants' | 'preferredChannel'>,
): { outreach: OutreachKind; channel: Channel } {
  const grants = grantsOf(f);
  const marketing = consentedChannel(grants, ConsentPurpose.Marketing, f.preferredChannel);
  if (type !== OpportunityType.OverdueAppointment && marketing !== null) return { outreach: OutreachKind.Offer, channel: marketing };
  const reminder = consentedChannel(grants, ConsentPurpose.AppointmentReminders, f.preferredChannel);
  if (overdue && reminder !== null) return { outreach: OutreachKind.Reminder, channel: reminder };
  return { outreach: OutreachKind.NextContact, channel: f.preferredChannel };
}

const CHANNEL_VERB: Record<Channel, string> = {
  phone: 'Call',
  sms: 'Text',
  email: 'Email',
  whatsapp: 'Send a WhatsApp message to',
};

const CHANNEL_NAME: Record<Channel, string> = { phone: 'phone', sms: 'SMS', email: 'email', whatsapp: 'WhatsApp' };

/**
 * The `suggested_action` sentence: which channel, and what to offer or remind of; when the patient's preferred
 * channel is not the one (no consent on it), it says so.
 */
export function suggestedAction(
  o: Pick<Opportunity, 'type' | 'outreach' | 'channel' | 'patientStatus'>,
  preferredChannel: Channel = o.channel,
): string {
  const sentence = actionSentence(o);
  if (o.outreach === OutreachKind.NextContact || preferredChannel === o.channel) return sentence;
  const purpose = o.outreach === OutreachKind.Offer ? 'marketing' : 'appointment reminders';
  return `${sentence} (not by ${CHANNEL_NAME[preferredChannel]}, the preferred channel: no consent to ${purpose} there)`;
}

function actionSentence(o: Pick<Opportunity, 'type' | 'outreach' | 'channel' | 'patientStatus'>): string {
  const verb = CHANNEL_VERB[o.channel];
  switch (o.outreach) {
    case OutreachKind.Offer:
      switch (o.type) {
        case OpportunityType.HighValueRisk:
          return `${verb} the patient personally (care team, preferred channel ${CHANNEL_NAME[o.channel]}) and offer a priority appointment with their usual clinician`;
        case OpportunityType.InactivePatient:
          return o.patientStatus === 'at_risk'
            ? `${verb} the patient with a welcome-back offer: a complimentary check-up with their next booking`
            : `${verb} the patient to offer a check-up appointment at a time of their choice`;
        case OpportunityType.OverdueAppointment:
          return `${verb} the patient to offer a booking for their due visit`;
      }
      break;
    case OutreachKind.Reminder:
      return `Send a recall reminder by ${CHANNEL_NAME[o.channel]} with a link to book the overdue visit`;
    case OutreachKind.NextContact:
      return o.type === OpportunityType.OverdueAppointment
        ? 'No consent to appointment reminders: do not message; offer to book the overdue visit when the patient next calls or visits'
        : 'No marketing consent: do not send offers; raise a return visit when the patient next calls or visits';
  }
  return `${verb} the patient`;
}
