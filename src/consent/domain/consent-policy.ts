import { Channel, CONTACT_PURPOSES, ConsentDecisionKind, ConsentPurpose } from 'src/records/records.enums';

/**
 * The one consent policy (docs/privacy.md, "Consent"): from a patient's decisions, what is granted now. Pure: no
 * clock reads (the moment is an argument), no database. Every feature asks it, through the grants the consent writer
 * stores on the patient (`patients.consent_grants`, `marketing_consent`, `appointment_reminders`): the queries that
 * choose data filter on those, so counts, totals and pages stay right.
 *
 * Rules:
 * - A decision is about one purpose, and for the purposes that contact the patient (appointment reminders, marketing)
 *   either one channel or, without a channel, every channel.
 * - For a purpose (and a channel), the decision that counts is the newest of those about that channel or about every
 *   channel: by `recorded_at`, then by the order they were stored. Decisions are never changed; a newer one supersedes.
 * - It grants only when it is `granted` and has not expired (`expires_at` after the moment). An expired grant is
 *   `expired`, not granted, and does not bring an older decision back.
 * - No decision: not granted (consent is opt-in for every purpose).
 */

export const ALL_CHANNELS: readonly Channel[] = [Channel.Email, Channel.Sms, Channel.Phone, Channel.Whatsapp];
export const ALL_PURPOSES: readonly ConsentPurpose[] = Object.values(ConsentPurpose);

export interface ConsentDecisionFacts {
  id: string;
  purpose: ConsentPurpose;
  channel: Channel | null;
  decision: ConsentDecisionKind;
  recordedAt: Date;
  expiresAt: Date | null;
  /** Tie-break between decisions recorded at the same moment: later stored wins (the row's created_at). */
  storedAt: Date;
}

export type EffectiveState = ConsentDecisionKind | 'expired' | 'not_recorded';

export interface EffectiveConsent {
  purpose: ConsentPurpose;
  /** null for the purposes that contact no one. */
  channel: Channel | null;
  granted: boolean;
  state: EffectiveState;
  /** The decision that counts; null when none was recorded. */
  decisionId: string | null;
  expiresAt: Date | null;
}

export const isContactPurpose = (purpose: ConsentPurpose): boolean => CONTACT_PURPOSES.includes(purpose);

/** The grant token stored in `patients.consent_grants`: `marketing:sms`, `analytics`. */
export const grantToken = (purpose: ConsentPurpose, channel: Channel | null): string =>
  channel === null ? purpose : `${purpose}:${channel}`;

const newer = (a: ConsentDecisionFacts, b: ConsentDecisionFacts): boolean =>
  a.recordedAt.getTime() !== b.recordedAt.getTime()
    ? a.recordedAt.getTime() > b.recordedAt.getTime()
    : a.storedAt.getTime() > b.storedAt.getTime() || (a.storedAt.getTime() === b.storedAt.getTime() && a.id > b.id);

/** The decision that counts for a purpose and channel (null channel: a purpose that contacts no one). */
export function decisionFor(
  decisions: readonly ConsentDecisionFacts[],
  purpose: ConsentPurpose,
  channel: Channel | null,
): ConsentDecisionFacts | null {
  let best: ConsentDecisionFacts | null = null;
  for (const d of decisions) {
    if (d.purpose !== purpose) continue;
    if (d.channel !== null && d.channel !== channel) continue;
    if (best === null || newer(d, best)) best = d;
  }
  return best;
}

export function effectiveFor(
  decisions: readonly ConsentDecisionFacts[],
  purpose: ConsentPurpose,
  channel: Channel | null,
  at: Date,
): EffectiveConsent {
  const d = decisionFor(decisions, purpose, channel);
  if (d === null) return { purpose, channel, granted: false, state: 'not_recorded', decisionId: null, expiresAt: null };
  const expired = d.expiresAt !== null && d.expiresAt.getTime() <= at.getTime();
  const state: EffectiveState = expired ? 'expired' : d.decision;
  return { purpose, channel, granted: state === ConsentDecisionKind.Granted, state, decisionId: d.id, expiresAt: d.expiresAt };
}

/** The effective state of every purpose (per channel for the contact purposes), in a fixed order. */
export function effectiveConsents(decisions: readonly ConsentDecisionFacts[], at: Date): EffectiveConsent[] {
  const out: EffectiveConsent[] = [];
  for (const purpose of ALL_PURPOSES) {
    if (isContactPurpose(purpose)) for (const channel of ALL_CHANNELS) out.push(effectiveFor(decisions, purpose, channel, at));
    else out.push(effectiveFor(decisions, purpose, null, at));
  }
  return out;
}

export interface ConsentProjection {
  /** Sorted grant tokens. */
  grants: string[];
  /** Granted on at least one channel. */
  marketingConsent: boolean;
  appointmentReminders: boolean;
  /** The earliest expiry of a grant in force: when the projection must be computed again (null: never). */
  reviewAt: Date | null;
}

/** What the consent writer stores on the patient. */
export function consentProjection(decisions: readonly ConsentDecisionFacts[], at: Date): ConsentProjection {
  const effective = effectiveConsents(decisions, at).filter((e) => e.granted);
  const grants = effective.map((e) => grantToken(e.purpose, e.channel)).sort();
  const expiries = effective.map((e) => e.expiresAt?.getTime()).filter((t): t is number => t !== undefined);
  return {
    grants,
    marketingConsent: effective.some((e) => e.purpose === ConsentPurpose.Marketing),
    appointmentReminders: effective.some((e) => e.purpose === ConsentPurpose.AppointmentReminders),
    reviewAt: expiries.length === 0 ? null : new Date(Math.min(...expiries)),
  };
}

/**
 * The channel to contact the patient on for a purpose: their preferred channel when granted there, else the first
 * granted channel (email, SMS, phone, WhatsApp); null when no channel is granted.
 */
export function consentedChannel(grants: readonly string[], purpose: ConsentPurpose, preferred: Channel): Channel | null {
  if (grants.includes(grantToken(purpose, preferred))) return preferred;
  return ALL_CHANNELS.find((c) => grants.includes(grantToken(purpose, c))) ?? null;
}
