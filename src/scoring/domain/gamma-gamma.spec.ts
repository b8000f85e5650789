import {
  expectedAverageValue,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  gammaGammaTotalLogLikelihood,
  validateSpendHistories,
  type GammaGammaParams,
} from 'src/scoring/domain/gamma-gamma';
import { simulateGammaGamma } from 'src/scoring/domain/simulation';
import { CDNOW_PUBLISHED, readCdnow } from 'test/fixtures/cdnow/cdnow';

const TRUTH: GammaGammaParams = CDNOW_PUBLISHED.gammaGamma;
const relativeError = (estimate: number, truth: number): number => Math.abs(estimate / truth - 1);

describe('Gamma-Gamma likelihood', () => {
  it('total (precomputed form) equals the sum of individual log-likelihoods', () => {
    const data = [
      { x: 1, zbar: 20 },
      { x: 4, zbar: 35.5, weight: 2 },
      { x: 10, zbar: 12.25 },
    ];
    const sum = data.reduce((s, h) => s + (h.weight ?? 1) * gammaGammaLogLikelihood(TRUTH, h), 0);
    expect(gammaGammaTotalLogLikelihood(TRUTH, data)).toBeCloseTo(sum, 9);
  });

  it('for x = 1 is the density of a single Gamma-Gamma draw: the integral over z̄ is 1', () => {
    // Trapezoid over a log grid: ∫ f(z) dz = ∫ f(e^u) e^u du.
    let integral = 0;
    const step = 0.001;
    for (let u = -10; u < 12; u += step) {
      const z = Math.exp(u);
      integral += Math.exp(gammaGammaLogLikelihood(TRUTH, { x: 1, zbar: z })) * z * step;
    }
    expect(integral).toBeCloseTo(1, 4);
  });

  it('rejects rows without a transaction or with a non-positive value, naming the row', () => {
    expect(() => validateSpendHistories([{ x: 1, zbar: 3 }, { x: 0, zbar: 3 }])).toThrow(/row 1/);
    expect(() => validateSpendHistories([{ x: 2, zbar: 0 }])).toThrow(RangeError);
    expect(() => fitGammaGamma([])).toThrow(/no customers/);
  });
});

describe('conditional expected average value', () => {
  it('is p(v + x z̄) / (px + q - 1), between the population mean and the customer mean', () => {
    const { p, q, v } = TRUTH;
    expect(expectedAverageValue(TRUTH, 2, 22.35)).toBeCloseTo((p * (v + 2 * 22.35)) / (p * 2 + q - 1), 12);
    const populationMean = (p * v) / (q - 1);
    expect(expectedAverageValue(TRUTH, 0, 0)).toBeCloseTo(populationMean, 12);
    const value = expectedAverageValue(TRUTH, 3, 100);
    expect(value).toBeGreaterThan(populationMean);
    expect(value).toBeLessThan(100);
  });

  it('matches the values printed by the lifetimes library for the first CDNOW customers', () => {
    const fitted = { p: 6.248802, q: 3.744588, v: 15.447748 };
    expect(expectedAverageValue(fitted, 2, 22.35)).toBeCloseTo(24.658616, 3);
    expect(expectedAverageValue(fitted, 1, 11.77)).toBeCloseTo(18.911480, 3);
    expect(expectedAverageValue(fitted, 0, 0)).toBeCloseTo(35.170981, 3);
  });

  it('never returns NaN: q <= 1 falls back to the customer mean, garbage inputs to 0', () => {
    expect(expectedAverageValue({ p: 1, q: 0.5, v: 1 }, 3, 40)).toBe(40);
    expect(expectedAverageValue({ p: 1, q: 0.5, v: 1 }, 0, 40)).toBe(0);
    expect(Number.isFinite(expectedAverageValue(TRUTH, NaN, Infinity))).toBe(true);
  });
});

describe('Gamma-Gamma fit', () => {
  it('matches the published CDNOW estimates within 1 % (946 customers with x > 0)', () => {
    const rows = readCdnow().filter((c) => c.x > 0);
    expect(rows).toHaveLength(946);
    const fit = fitGammaGamma(rows.map((c) => ({ x: c.x, zbar: c.zbar })));
    expect(relativeError(fit.p, TRUTH.p)).toBeLessThan(0.01);
    expect(relativeError(fit.q, TRUTH.q)).toBeLessThan(0.01);
    expect(relativeError(fit.v, TRUTH.v)).toBeLessThan(0.01);
  });

  // p is identified only by the spread of each customer's own visit values; with 5,000 customers its sampling
  // error is 10-20 %. At that size: likelihood-ratio region. For a 10 % check: 150,000 customers with 1-30
  // transactions (sampling SD ≈ 2-3 %; worst error over 8 seeds: 6.6 %).
  it('5,000 simulated customers: the truth is inside the 99.9 % likelihood-ratio region', () => {
    const data = simulateGammaGamma(TRUTH, 5_000, 10, 42);
    const fit = fitGammaGamma(data);
    const deviance = 2 * (fit.logLikelihood - gammaGammaTotalLogLikelihood(TRUTH, data));
    expect(deviance).toBeGreaterThanOrEqual(-1e-6);
    expect(deviance).toBeLessThan(16.27); // χ²(3) 99.9 % quantile
    expect(relativeError(fit.q, TRUTH.q)).toBeLessThan(0.1);
  });

  it('recovers each parameter within 10 % from 150,000 simulated customers', () => {
    const fit = fitGammaGamma(simulateGammaGamma(TRUTH, 150_000, 30, 2024));
    expect(relativeError(fit.p, TRUTH.p)).toBeLessThan(0.1);
    expect(relativeError(fit.q, TRUTH.q)).toBeLessThan(0.1);
    expect(relativeError(fit.v, TRUTH.v)).toBeLessThan(0.1);
  });
});
