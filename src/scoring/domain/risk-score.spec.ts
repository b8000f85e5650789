import fc from 'fast-check';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { satisfaction, usualVisitIntervalDays } from 'src/scoring/domain/risk-components';
import { MAX_FACTORS, RISK_WEIGHTS, riskLevel, riskScore } from 'src/scoring/domain/risk-score';
import { DEFAULT_SCORING_SETTINGS } from 'src/scoring/domain/scoring-settings';
import { anyCount, anyFeatures, NOW } from 'test/utils/patient-features.arbitrary';
import { DAY_MS } from 'src/common/time/calendar';

const daysAgo = (days: number): number => NOW - days * DAY_MS;

/** A loyal patient: monthly visits for two years, last one 10 days ago, answers messages, happy. */
const loyal = (extra: Partial<PatientFeatures> = {}): PatientFeatures =>
  emptyFeatures({
    registeredAt: daysAgo(760),
    firstVisitAt: daysAgo(730),
    lastVisitAt: daysAgo(10),
    lastEngagementAt: daysAgo(10),
    completedVisits: 25,
    visitValueCents: 25 * 8_000,
    decayedVisits: 14,
    recentAppointments: 5,
    decayedOutreach: 6,
    decayedReplies: 5.5,
    avgReplyHours: 3,
    weightedSatisfaction: 4.8,
    netRevenueCents: 200_000,
    ...extra,
  });

describe('riskScore weights and levels', () => {
  it('weights sum to 100', () => {
    expect(Object.values(RISK_WEIGHTS).reduce((s, w) => s + w, 0)).toBe(100);
  });

  it.each([
    [0, 'low'],
    [34.9, 'low'],
    [35, 'medium'],
    [59.9, 'medium'],
    [60, 'high'],
    [100, 'high'],
  ])('score %p is %p', (score, level) => {
    expect(riskLevel(score)).toBe(level);
  });
});

describe('riskScore examples', () => {
  it('a loyal patient is low risk with no factors', () => {
    const result = riskScore(loyal(), NOW);
    expect(result.level).toBe('low');
    expect(result.score).toBeLessThan(10);
    expect(result.factors).toEqual([]);
  });

  it('a lapsed monthly patient who missed appointments and owes money is high risk, with plain reasons', () => {
    const result = riskScore(
      loyal({
        lastVisitAt: daysAgo(142),
        lastEngagementAt: daysAgo(142),
        firstVisitAt: daysAgo(142 + 24 * 30),
        decayedNoShows: 1.5,
        recentNoShows: 2,
        overduePayments: 2,
        weightedSatisfaction: 2,
        complaints: 1,
        decayedComplaints: 0.9,
      }),
      NOW,
    );
    expect(result.level).toBe('high');
    expect(result.factors.length).toBeLessThanOrEqual(MAX_FACTORS);
    expect(result.factors[0]).toBe('No visit for 142 days; usually every 30 days');
    expect(result.factors).toContain('Missed 2 of the last 5 appointments');
    expect(result.factors).toContain('2 overdue payments');
    expect(result.factors).toContain('No contact for 142 days');
  });

  it('reads a weighted mean rating within a few bits of 3 as 3 (the same sentence every day)', () => {
    // Σ w·3 / Σ w comes out either side of 3 in the last bit as the recency weights change from day to day.
    for (const rating of [2.9999999999999996, 3, 3.0000000000000004]) {
      expect(satisfaction(emptyFeatures({ weightedSatisfaction: rating }))).toEqual({ key: 'satisfaction', value: 0.5, fact: 'Rated the clinic 3/5' });
    }
    expect(satisfaction(emptyFeatures({ weightedSatisfaction: 3.01 })).fact).toBeNull();
  });

  it('names satisfaction and treatment problems when they dominate', () => {
    const result = riskScore(loyal({ weightedSatisfaction: 2, complaints: 1, decayedComplaints: 1, abandonedPlans: 1, activePlanSessionsBehind: 3 }), NOW);
    expect(result.factors).toEqual(['Rated the clinic 2/5 and filed a complaint', 'Abandoned a treatment plan; 3 sessions behind on the treatment plan']);
  });

  it('describes poor responsiveness', () => {
    const result = riskScore(loyal({ decayedOutreach: 10, decayedReplies: 1, avgReplyHours: 96 }), NOW);
    expect(result.factors).toContain('Answers about 10% of messages from the clinic; takes about 4 days to reply');
  });

  it('orders factors by contribution and keeps at most four', () => {
    const result = riskScore(
      emptyFeatures({ registeredAt: daysAgo(900), decayedNoShows: 5, recentNoShows: 5, recentAppointments: 5, decayedCancellations: 5, recentCancellations: 5, overduePayments: 3, decayedFailedPayments: 2, weightedSatisfaction: 1, decayedComplaints: 3, complaints: 3, abandonedPlans: 2, decayedOutreach: 20 }),
      NOW,
    );
    expect(result.factors).toHaveLength(4);
    const points = result.factors.map((f) => result.contributions.find((c) => c.fact === f)?.points ?? -1);
    expect([...points].sort((a, b) => b - a)).toEqual(points);
    expect(result.score).toBeGreaterThan(80);
  });

  it('a booked visit softens the visit gap and says so', () => {
    const lapsed = loyal({ lastVisitAt: daysAgo(150), lastEngagementAt: daysAgo(150), firstVisitAt: daysAgo(870) });
    const booked = { ...lapsed, nextAppointmentAt: NOW + 3 * DAY_MS };
    expect(riskScore(booked, NOW).score).toBeLessThan(riskScore(lapsed, NOW).score);
    expect(riskScore(booked, NOW).factors.some((f) => f.endsWith('(next visit booked)'))).toBe(true);
  });

  it('uses the default interval for patients with fewer than two visits, and at least a week otherwise', () => {
    expect(usualVisitIntervalDays(emptyFeatures({ completedVisits: 1, firstVisitAt: daysAgo(10), lastVisitAt: daysAgo(10) }), DEFAULT_SCORING_SETTINGS)).toBe(90);
    expect(usualVisitIntervalDays(emptyFeatures({ completedVisits: 10, firstVisitAt: daysAgo(10), lastVisitAt: daysAgo(9) }), DEFAULT_SCORING_SETTINGS)).toBe(7);
  });

  it('a patient with no data at all gets a moderate, explained score', () => {
    const result = riskScore(emptyFeatures(), NOW);
    expect(result.factors).toEqual(['No contact on record', 'No visit on record']);
    expect(result.score).toBeGreaterThan(0);
  });
});

describe('riskScore properties', () => {
  it('is always a finite number in [0, 100] with one decimal, and a level matching it', () => {
    fc.assert(
      fc.property(anyFeatures, fc.integer({ min: 0, max: 2 * NOW }), (features, now) => {
        const { score, level, factors } = riskScore(features, now);
        return (
          Number.isFinite(score) && score >= 0 && score <= 100 && Math.round(score * 10) === score * 10 &&
          level === riskLevel(score) && factors.length <= MAX_FACTORS && factors.every((f) => f.length > 0 && !/NaN/.test(f))
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('a more recent last visit never raises risk', () => {
    fc.assert(
      fc.property(anyFeatures, fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 3000 }), (features, d1, d2) => {
        const older = riskScore({ ...features, lastVisitAt: daysAgo(Math.max(d1, d2)) }, NOW).score;
        const newer = riskScore({ ...features, lastVisitAt: daysAgo(Math.min(d1, d2)) }, NOW).score;
        return newer <= older;
      }),
      { numRuns: 2000 },
    );
  });

  it('more no-shows never lower risk', () => {
    fc.assert(
      fc.property(anyFeatures, anyCount, fc.double({ min: 0, max: 100, noNaN: true }), (features, base, extra) => {
        const fewer = riskScore({ ...features, decayedNoShows: base }, NOW).score;
        const more = riskScore({ ...features, decayedNoShows: (Number.isFinite(base) && base > 0 ? base : 0) + extra }, NOW).score;
        return more >= fewer;
      }),
      { numRuns: 2000 },
    );
  });

  it('more overdue payments, complaints or abandoned plans never lower risk', () => {
    fc.assert(
      fc.property(anyFeatures, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 5 }), (features, base, extra) => {
        for (const key of ['overduePayments', 'decayedComplaints', 'abandonedPlans', 'decayedFailedPayments', 'decayedCancellations'] as const) {
          if (riskScore({ ...features, [key]: base + extra }, NOW).score < riskScore({ ...features, [key]: base }, NOW).score) return false;
        }
        return true;
      }),
    );
  });
});
