/**
 * Seeded simulators of the BG/NBD and Gamma-Gamma generative processes, used to test that the fits recover known
 * parameters (and usable to size how much data an organization needs before the models are trustworthy).
 */
import type { BgNbdParams, RepeatHistory } from 'src/scoring/domain/bg-nbd';
import type { GammaGammaParams, SpendHistory } from 'src/scoring/domain/gamma-gamma';
import { beta, exponential, gamma, mulberry32 } from 'src/scoring/domain/prng';

/**
 * `count` customers; customer i is observed for T = minT + (maxT - minT)·u (u uniform), so cohorts of different
 * ages are mixed as in a real customer base. Follows the BG/NBD story: λ ~ Gamma(r, α), p ~ Beta(a, b), visits
 * are Poisson(λ) and after each repeat visit the customer drops out with probability p.
 */
export function simulateBgNbd(
  params: BgNbdParams,
  count: number,
  observation: { minT: number; maxT: number; granularity?: number },
  seed: number,
): RepeatHistory[] {
  // Real data are recorded to the day: rounding down to `granularity` (e.g. 1/7 week) also lets identical
  // histories be merged, which makes fitting large simulated samples fast.
  const g = observation.granularity ?? 0;
  const round = (value: number): number => (g > 0 ? Math.floor(value / g) * g : value);
  const random = mulberry32(seed);
  const customers: RepeatHistory[] = [];
  for (let i = 0; i < count; i++) {
    const T = round(observation.minT + (observation.maxT - observation.minT) * random());
    const lambda = gamma(random, params.r, params.alpha);
    const p = beta(random, params.a, params.b);
    let x = 0;
    let tx = 0;
    let t = 0;
    for (;;) {
      t += exponential(random, lambda);
      if (t > T) break;
      x += 1;
      tx = t;
      if (random() < p) break;
    }
    customers.push({ x, tx: round(tx), T });
  }
  return customers;
}

/**
 * `count` customers with x ~ 1 + uniform{0..maxX-1} visits; ν ~ Gamma(q, v) per customer and each visit's value
 * ~ Gamma(p, ν); returns (x, mean value).
 */
export function simulateGammaGamma(params: GammaGammaParams, count: number, maxX: number, seed: number): SpendHistory[] {
  const random = mulberry32(seed);
  const customers: SpendHistory[] = [];
  for (let i = 0; i < count; i++) {
    const x = 1 + Math.floor(random() * maxX);
    const nu = gamma(random, params.q, params.v);
    let total = 0;
    for (let k = 0; k < x; k++) total += gamma(random, params.p, nu);
    customers.push({ x, zbar: total / x });
  }
  return customers;
}
