/**
 * When the CLV models' fit is used, and when it is tried again: pure rules over a fit and its age (no clock reads).
 */
import { DAY_MS } from 'src/common/time/calendar';
import type { OrganizationModelFit } from 'src/scoring/domain/scoring-models';

/**
 * A fit the scores can rely on: every parameter finite and inside wide bounds. Data without a real spread (every
 * patient visiting on the same rhythm) can drive the likelihood maximum to infinity; the optimizer then stops at
 * enormous values (r, α, a, b ~ 1e4 to 1e10) that mean nothing and make the BG/NBD forecast's series crawl.
 * Such a fit counts as "too little data": the domain's fallbacks apply.
 */
export function plausibleFit(fit: OrganizationModelFit): boolean {
  const inside = (v: number, max: number): boolean => Number.isFinite(v) && v >= 1e-4 && v <= max;
  const { bgnbd: b, gammaGamma: g } = fit;
  return [b.r, b.alpha, b.a, b.b, g.p, g.q].every((v) => inside(v, 1e4)) && inside(g.v, 1e9);
}

/**
 * How long the request path lets an attempt that was not accepted stand before it fits again (the nightly
 * organization-wide recompute refits every organization in any case). An accepted fit stands until the next one.
 */
export const REJECTED_FIT_RETRY_MS = 24 * 3_600_000;

/**
 * Whether the organization's latest fit attempt stands at `now` (else the request path fits again): an accepted one
 * always; a rejected one (models null) for REJECTED_FIT_RETRY_MS; none never.
 */
export function fitStands(latest: { models: unknown; fittedAt: Date } | null, now: Date): boolean {
  return latest !== null && (latest.models !== null || now.getTime() - latest.fittedAt.getTime() < REJECTED_FIT_RETRY_MS);
}

/** How often a small organization's nightly run refits its models (days): on one weekday of its own. */
export const NIGHTLY_REFIT_DAYS = 7;

/** 0 to days - 1 from the organization id (FNV-1a): the day of the cycle on which its nightly run refits. */
export function refitSlot(organizationId: string, days = NIGHTLY_REFIT_DAYS): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < organizationId.length; i++) h = Math.imul(h ^ organizationId.charCodeAt(i), 0x01000193) >>> 0;
  return h % days;
}

/**
 * Whether a small organization's nightly run refits its models (else it scores with the latest attempt's, as the
 * request path does): when it has no attempt, when the latest was fitted under other scoring settings (or before
 * they were recorded), when it is `days` days old, or on the organization's own day of the cycle (refitSlot: a
 * seventh of the clinics each night, not all on the same one) unless it was fitted that UTC day already. Between
 * refits only the population parameters are up to a week old; every patient's features are read afresh each night.
 */
export function nightlyRefitDue(
  latest: { fittedAt: Date; settingsKey: string | null } | null,
  now: Date,
  organization: { organizationId: string; settingsKey: string },
  days = NIGHTLY_REFIT_DAYS,
): boolean {
  if (!latest || latest.settingsKey !== organization.settingsKey) return true;
  const today = Math.floor(now.getTime() / DAY_MS);
  const fittedDay = Math.floor(latest.fittedAt.getTime() / DAY_MS);
  if (today - fittedDay >= days) return true;
  return today % days === refitSlot(organization.organizationId, days) && fittedDay < today;
}
