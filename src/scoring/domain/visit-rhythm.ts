import { DAY_MS } from 'src/common/time/calendar';

/**
 * A patient's visit rhythm: their usual interval between visits, the one notion the risk score (visit gap, success
 * probability), the reengagement opportunities (expected next visit) and the journey (when a patient has lapsed)
 * share. Pure, no clock: the caller says which visits are known at the instant it judges.
 *
 * The usual interval is known from two completed visits: the mean gap between the first and the last,
 * (last − first) / (visits − 1) days, and never less than a week (so that two visits on one day, or a burst of
 * visits, do not make a patient "overdue" or "lapsed" after a day). With fewer visits it is unknown, and each user
 * falls back on its own rule: the risk score on `defaultVisitIntervalDays` (90), the opportunities on a treatment
 * plan's cadence or the recall interval, the journey on its fixed lapse thresholds.
 */


/** The shortest usual interval: a week. */
export const MIN_USUAL_INTERVAL_DAYS = 7;

/**
 * A patient has lapsed once they stayed away this many usual intervals (and at least the journey's fixed threshold):
 * a whole expected visit missed, not merely late. A patient seen every six months lapses after a year without a
 * visit, one seen weekly or monthly after the 90 days the spec names.
 */
export const LAPSE_USUAL_INTERVALS = 2;

/** The completed visits known at the instant judged: how many, the first and the last (epoch ms). */
export interface VisitSpan {
  visits: number;
  firstVisitAt: number | null;
  lastVisitAt: number | null;
}

/**
 * The patient's usual interval between visits in days, or null while it is unknown (fewer than two visits, or dates
 * that are not finite): max(MIN_USUAL_INTERVAL_DAYS, (last − first) / (visits − 1)).
 */
export function knownVisitIntervalDays(span: VisitSpan): number | null {
  const { visits, firstVisitAt: first, lastVisitAt: last } = span;
  if (!Number.isFinite(visits) || visits < 2 || first === null || last === null) return null;
  const mean = (last - first) / DAY_MS / (visits - 1);
  return Number.isFinite(mean) ? Math.max(MIN_USUAL_INTERVAL_DAYS, mean) : null;
}

/** The usual interval, or `fallbackDays` while it is unknown. */
export function visitIntervalDaysOr(span: VisitSpan, fallbackDays: number): number {
  return knownVisitIntervalDays(span) ?? fallbackDays;
}

/**
 * Days without a visit after which the patient has lapsed: `floorDays` (the journey's fixed threshold) or
 * LAPSE_USUAL_INTERVALS usual intervals, whichever is longer, in whole days (rounded up); `floorDays` while the usual
 * interval is unknown.
 */
export function lapseAfterDays(floorDays: number, usualDays: number | null): number {
  if (usualDays === null || !Number.isFinite(usualDays)) return floorDays;
  return Math.max(floorDays, Math.ceil(LAPSE_USUAL_INTERVALS * usualDays - 1e-9));
}
