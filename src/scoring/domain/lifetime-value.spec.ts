import fc from 'fast-check';
import { expectedVisits } from 'src/scoring/domain/bg-nbd';
import { expectedAverageValue } from 'src/scoring/domain/gamma-gamma';
import { avgSessionValue, lifetimeValue, totalSessions } from 'src/scoring/domain/lifetime-value';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { repeatHistory, type ScoringModels } from 'src/scoring/domain/scoring-models';
import { anyFeatures, NOW } from 'test/utils/patient-features.arbitrary';
import { DAY_MS } from 'src/common/time/calendar';

const daysAgo = (days: number): number => NOW - days * DAY_MS;
const MODELS: ScoringModels = { bgnbd: { r: 0.8, alpha: 6, a: 0.5, b: 4 }, gammaGamma: { p: 6, q: 4, v: 30_000 } };
const regular = (extra: Partial<PatientFeatures> = {}): PatientFeatures =>
  emptyFeatures({
    firstVisitAt: daysAgo(364),
    lastVisitAt: daysAgo(14),
    completedVisits: 12,
    visitValueCents: 12 * 9_000,
    netRevenueCents: 100_000,
    ...extra,
  });

describe('lifetimeValue', () => {
  it('adds historical net revenue, the model forecast and the referral share', () => {
    const features = regular({ referredNetRevenueCents: 50_000 });
    const ltv = lifetimeValue(features, NOW, MODELS);
    const history = repeatHistory(features, NOW);
    expect(history).toEqual({ x: 11, tx: 50, T: 52 });
    const visits = expectedVisits(MODELS.bgnbd, { x: 11, tx: 50, T: 52 }, 365 / 7);
    const value = expectedAverageValue(MODELS.gammaGamma, 12, 9_000);
    expect(ltv.historicalCents).toBe(100_000);
    expect(ltv.expectedVisits).toBeCloseTo(visits, 10);
    expect(ltv.expectedVisitValueCents).toBeCloseTo(value, 10);
    expect(ltv.predictedCents).toBe(Math.round(visits * value));
    expect(ltv.referralCents).toBe(5_000);
    expect(ltv.totalCents).toBe(ltv.historicalCents + ltv.predictedCents + ltv.referralCents);
  });

  it('lets an active treatment plan raise, never lower, the forecast', () => {
    const base = lifetimeValue(regular(), NOW, MODELS);
    const bigPlan = lifetimeValue(regular({ activePlanRemainingValueCents: base.predictedCents + 100_000 }), NOW, MODELS);
    expect(bigPlan.predictedCents).toBe(base.predictedCents + 100_000);
    const smallPlan = lifetimeValue(regular({ activePlanRemainingValueCents: 1 }), NOW, MODELS);
    expect(smallPlan.predictedCents).toBe(base.predictedCents);
  });

  it('without models or without a visit, forecasts from active plans only', () => {
    expect(lifetimeValue(regular({ activePlanRemainingValueCents: 30_000 }), NOW, null).predictedCents).toBe(30_000);
    const newPatient = lifetimeValue(emptyFeatures({ activePlanRemainingValueCents: 20_000 }), NOW, MODELS);
    expect(newPatient).toMatchObject({ historicalCents: 0, predictedCents: 20_000, referralCents: 0, totalCents: 20_000, expectedVisits: 0 });
  });

  it('never goes negative: refunds above payments count as 0 history', () => {
    expect(lifetimeValue(emptyFeatures({ netRevenueCents: -5_000 }), NOW, null).totalCents).toBe(0);
  });

  it('a lapsed patient is forecast less than a regular one', () => {
    const lapsed = regular({ lastVisitAt: daysAgo(300), firstVisitAt: daysAgo(650) });
    expect(lifetimeValue(lapsed, NOW, MODELS).predictedCents).toBeLessThan(lifetimeValue(regular(), NOW, MODELS).predictedCents);
  });

  it('parts and total are non-negative integers, never NaN, for any features', () => {
    fc.assert(
      fc.property(anyFeatures, fc.boolean(), (features, withModels) => {
        const ltv = lifetimeValue(features, NOW, withModels ? MODELS : null);
        const parts = [ltv.historicalCents, ltv.predictedCents, ltv.referralCents, ltv.totalCents];
        return (
          parts.every((p) => Number.isSafeInteger(p)) &&
          parts.every((p) => p >= 0) &&
          ltv.totalCents === ltv.historicalCents + ltv.predictedCents + ltv.referralCents &&
          Number.isFinite(ltv.expectedVisits) && Number.isFinite(ltv.expectedVisitValueCents)
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('session helpers', () => {
  it('totalSessions counts completed appointments, avgSessionValue is their mean value in cents', () => {
    expect(totalSessions(regular())).toBe(12);
    expect(avgSessionValue(regular())).toBe(9_000);
    expect(avgSessionValue(regular({ visitValueCents: 100 }))).toBe(8);
    expect(totalSessions(emptyFeatures())).toBe(0);
    expect(avgSessionValue(emptyFeatures())).toBe(0);
  });

  it('are finite non-negative integers for any features', () => {
    fc.assert(
      fc.property(anyFeatures, (f) => [totalSessions(f), avgSessionValue(f)].every((v) => Number.isInteger(v) && v >= 0)),
    );
  });
});
