/**
 * When the CLV models' fit is used, and when it is tried again: pure rules over a fit and its age (no clock reads).
 */
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
