/**
 * The eight parts of the risk score, each a number in [0, 1] (0 = no sign of risk) with the fact behind it in
 * words a receptionist understands. risk-score.ts weighs them. All inputs are read through `count`/`date`, so
 * garbage (negative, NaN, infinite) reads as missing, and every value goes through `unit`, so it stays in [0, 1].
 */
import { daysSinceEngagement } from 'src/scoring/domain/patient-status';
import { safeCount, safeDate, daysBetween, clampUnit, type PatientFeatures } from 'src/scoring/domain/patient-features';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { visitIntervalDaysOr } from 'src/scoring/domain/visit-rhythm';

export type RiskComponentKey =
  | 'visitGap'
  | 'noShows'
  | 'cancellations'
  | 'responsiveness'
  | 'payments'
  | 'lastContact'
  | 'satisfaction'
  | 'treatment';

export interface RiskComponent {
  key: RiskComponentKey;
  value: number;
  fact: string | null;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The patient's usual interval between visits in days (visit-rhythm.ts, shared with the opportunities and the
 * journey): max(7, mean gap) with 2+ visits, else `defaultVisitIntervalDays`.
 */
export function usualVisitIntervalDays(features: PatientFeatures, settings: ScoringSettings): number {
  const span = { visits: safeCount(features.completedVisits), firstVisitAt: safeDate(features.firstVisitAt), lastVisitAt: safeDate(features.lastVisitAt) };
  return visitIntervalDaysOr(span, settings.defaultVisitIntervalDays);
}

/**
 * Days since the last visit ÷ usual interval: 0 up to one interval, rising linearly to 1 at four intervals;
 * × 0.3 when a visit is booked. Without visits, days since registration ÷ the default interval; nothing known → 0.5.
 */
export function visitGap(f: PatientFeatures, now: number, s: ScoringSettings): RiskComponent {
  const last = safeDate(f.lastVisitAt);
  const reference = last ?? safeDate(f.registeredAt);
  if (reference === null) return { key: 'visitGap', value: 0.5, fact: 'No visit on record' };
  const days = daysBetween(reference, now);
  const usual = last === null ? s.defaultVisitIntervalDays : usualVisitIntervalDays(f, s);
  const next = safeDate(f.nextAppointmentAt);
  const booked = next !== null && next > now ? 0.3 : 1;
  const value = clampUnit(((days / usual - 1) / 3) * booked);
  const shown = Math.round(days);
  let fact: string;
  if (last === null) fact = `No visit since registering ${plural(shown, 'day')} ago`;
  else if (safeCount(f.completedVisits) >= 2) fact = `No visit for ${plural(shown, 'day')}; usually every ${plural(Math.round(usual), 'day')}`;
  else fact = `No visit for ${plural(shown, 'day')}`;
  return { key: 'visitGap', value, fact: booked < 1 ? `${fact} (next visit booked)` : fact };
}

/**
 * Missed (or cancelled) appointments, three parts: 40 % the share among the last 5 appointments (doubled and capped,
 * so 1 of 2 or more is the maximum), 30 % the decayed share among all appointments, 30 % a saturating decayed count.
 */
function missedShare(f: PatientFeatures, recentMissed: number, decayedMissed: number): number {
  const recent = safeCount(f.recentAppointments);
  const recentShare = recent > 0 ? clampUnit((2 * Math.min(recentMissed, recent)) / recent) : 0;
  const decayedShare = decayedMissed / (decayedMissed + safeCount(f.decayedVisits) + 1);
  return clampUnit(0.4 * recentShare + 0.3 * clampUnit(decayedShare) + 0.3 * (1 - Math.exp(-decayedMissed / 1.5)));
}

function ofLast(n: number, total: number, verb: string, fallback: string): string | null {
  if (n > 0 && total > 0) return `${verb} ${Math.min(n, total)} of the last ${plural(total, 'appointment')}`;
  return fallback;
}

export function noShows(f: PatientFeatures): RiskComponent {
  const missed = safeCount(f.decayedNoShows);
  const fact = ofLast(safeCount(f.recentNoShows), safeCount(f.recentAppointments), 'Missed', 'Missed appointments in the past');
  const recent = safeCount(f.recentNoShows);
  return { key: 'noShows', value: missedShare(f, recent, missed), fact: missed > 0 || recent > 0 ? fact : null };
}

export function cancellations(f: PatientFeatures): RiskComponent {
  const cancelled = safeCount(f.decayedCancellations);
  const fact = ofLast(safeCount(f.recentCancellations), safeCount(f.recentAppointments), 'Cancelled', 'Cancelled appointments in the past');
  const recent = safeCount(f.recentCancellations);
  return { key: 'cancellations', value: missedShare(f, recent, cancelled), fact: cancelled > 0 || recent > 0 ? fact : null };
}

/**
 * 75 % non-reply rate, smoothed towards a 70 % reply rate by two pseudo-messages (so one unanswered SMS is not
 * alarming), 25 % reply lag: 0 within a day, 1 at a week or more.
 */
export function responsiveness(f: PatientFeatures): RiskComponent {
  const outreach = safeCount(f.decayedOutreach);
  const replies = Math.min(safeCount(f.decayedReplies), outreach);
  const replyRate = (replies + 1.4) / (outreach + 2);
  const lagHours = f.avgReplyHours === null ? 0 : safeCount(f.avgReplyHours);
  const lagRisk = clampUnit((lagHours - 24) / (7 * 24 - 24));
  const value = clampUnit(0.75 * (1 - replyRate) + 0.25 * lagRisk);
  const facts: string[] = [];
  if (outreach >= 1) facts.push(`Answers about ${Math.round((100 * replies) / outreach)}% of messages from the clinic`);
  if (lagRisk > 0) facts.push(`takes about ${plural(Math.round(lagHours / 24), 'day')} to reply`);
  const fact = facts.length ? facts.join('; ') : null;
  return { key: 'responsiveness', value, fact: fact && fact[0].toUpperCase() + fact.slice(1) };
}

/** Failed (decayed) payments and twice-weighted overdue ones, saturating: 1 - exp(-(failed + 2·overdue) / 2). */
export function payments(f: PatientFeatures): RiskComponent {
  const failed = safeCount(f.decayedFailedPayments);
  const overdue = Math.round(safeCount(f.overduePayments));
  const value = clampUnit(1 - Math.exp(-(failed + 2 * overdue) / 2));
  const facts: string[] = [];
  if (overdue > 0) facts.push(plural(overdue, 'overdue payment'));
  if (failed >= 0.5) facts.push(overdue > 0 ? 'failed payments' : 'Failed payments');
  return { key: 'payments', value, fact: facts.length ? facts.join(' and ') : null };
}

/** Days since the last engagement of any kind: 0 up to activeWithinDays (30), rising linearly to 1 at
 * 2 · atRiskAfterDays - activeWithinDays (150). */
export function lastContact(f: PatientFeatures, now: number, s: ScoringSettings): RiskComponent {
  const days = daysSinceEngagement(f, now);
  if (days === null) return { key: 'lastContact', value: 1, fact: 'No contact on record' };
  // scoringSettings never yields atRiskAfterDays <= activeWithinDays; settings built by hand might: no division by 0.
  const span = 2 * (s.atRiskAfterDays - s.activeWithinDays);
  const value = span > 0 ? clampUnit((days - s.activeWithinDays) / span) : days >= s.activeWithinDays ? 1 : 0;
  return { key: 'lastContact', value, fact: `No contact for ${plural(Math.round(days), 'day')}` };
}

/**
 * Noisy-or of a low rating ((5 - rating) / 4; unknown counts as 0.2) and complaints (1 - exp(-1.5·decayed)). The
 * rating is a recency-weighted mean, Σ w·rating / Σ w, so a patient who always rated 3 has a mean of 3 only to the
 * last bit: 2.9999999999999996 one day and 3.0000000000000004 the next, as the weights change. Rounded to nine
 * decimals, it is 3 every day, and the "Rated the clinic 3/5" sentence does not come and go.
 */
export function satisfaction(f: PatientFeatures): RiskComponent {
  const rating =
    f.weightedSatisfaction === null || !Number.isFinite(f.weightedSatisfaction)
      ? null
      : Math.min(5, Math.max(1, Math.round(f.weightedSatisfaction * 1e9) / 1e9));
  const ratingRisk = rating === null ? 0.2 : (5 - rating) / 4;
  const complaintRisk = 1 - Math.exp(-1.5 * safeCount(f.decayedComplaints));
  const value = clampUnit(1 - (1 - ratingRisk) * (1 - complaintRisk));
  const complaints = Math.round(safeCount(f.complaints));
  const facts: string[] = [];
  if (rating !== null && rating <= 3) facts.push(`Rated the clinic ${Number(rating.toFixed(1))}/5`);
  if (complaints > 0) facts.push(`${facts.length ? 'filed' : 'Filed'} ${complaints === 1 ? 'a complaint' : `${complaints} complaints`}`);
  return { key: 'satisfaction', value, fact: facts.length ? facts.join(' and ') : null };
}

/** Abandoned plans and sessions behind schedule on active ones: 1 - exp(-abandoned) · exp(-behind / 2). */
export function treatment(f: PatientFeatures): RiskComponent {
  const abandoned = Math.round(safeCount(f.abandonedPlans));
  const behind = safeCount(f.activePlanSessionsBehind);
  const value = clampUnit(1 - Math.exp(-abandoned) * Math.exp(-behind / 2));
  const facts: string[] = [];
  if (abandoned > 0) facts.push(abandoned === 1 ? 'Abandoned a treatment plan' : `Abandoned ${abandoned} treatment plans`);
  if (behind >= 1) facts.push(`${facts.length ? '' : 'Is '}${plural(Math.floor(behind), 'session')} behind on the treatment plan`.trim());
  return { key: 'treatment', value, fact: facts.length ? facts.join('; ') : null };
}
