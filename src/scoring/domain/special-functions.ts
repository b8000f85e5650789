/**
 * Special functions needed by the BG/NBD and Gamma-Gamma models.
 * Written here rather than taken from a library so the domain code has no dependencies.
 */
// Globals read once into module constants: under Jest, modules run in a vm context where every global lookup
// (Math, Infinity) is slow (Math.log about 20 times slower than a local), which made the model fits' recovery
// tests take minutes instead of seconds (40,000 BG/NBD customers: 19 s → 1.2 s). Outside Jest it changes nothing.
const { PI, abs, exp, log, max, sin } = Math;
const NEGATIVE_INFINITY = -Infinity;

// Lanczos approximation, g = 7, n = 9 (coefficients as in Numerical Recipes / Boost); relative error ~1e-15.
const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * log(2 * PI);

/**
 * ln |Γ(x)| for real x (not a non-positive integer, where Γ has poles and +Infinity is returned).
 * Uses the reflection formula below 0.5.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0.5) {
    // Γ(x)Γ(1-x) = π / sin(πx)
    return log(PI / abs(sin(PI * x))) - lgamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_G + 2; i++) sum += LANCZOS_COEFFICIENTS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * log(t) - t + log(sum);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logSumExp(a: number, b: number): number {
  if (a === NEGATIVE_INFINITY) return b;
  if (b === NEGATIVE_INFINITY) return a;
  const m = max(a, b);
  return m + log(exp(a - m) + exp(b - m));
}

export interface Hyp2f1Options {
  /** Stop when a term is below this fraction of the running sum. */
  relativeTolerance?: number;
  maxTerms?: number;
}

/**
 * Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 (and |z| < 1 in general), by its power series
 * Σ (a)_n (b)_n / ((c)_n n!) z^n. The term ratio tends to z, so the series converges geometrically; we sum until
 * a term is negligible *and* the ratio has settled below 1 (early terms can grow when a, b > c). Throws if
 * |z| >= 1 or the series did not converge within `maxTerms` (about 35,000 terms are needed at z = 0.999).
 */
export function hyp2f1(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const tolerance = options.relativeTolerance ?? 1e-15;
  const maxTerms = options.maxTerms ?? 1_000_000;
  if (!(abs(z) < 1)) throw new RangeError(`hyp2f1: |z| must be < 1, got ${z}`);
  if (c <= 0 && Number.isInteger(c)) throw new RangeError(`hyp2f1: c must not be a non-positive integer, got ${c}`);
  let term = 1;
  let sum = 1;
  for (let n = 0; n < maxTerms; n++) {
    const ratio = ((a + n) * (b + n)) / ((c + n) * (n + 1));
    term *= ratio * z;
    sum += term;
    if (term === 0) return sum;
    if (abs(term) <= tolerance * abs(sum) && abs(ratio * z) < 1) return sum;
  }
  throw new RangeError(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${maxTerms} terms`);
}
