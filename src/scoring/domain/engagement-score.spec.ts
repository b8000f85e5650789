import fc from 'fast-check';
import { ENGAGEMENT_WEIGHTS, engagementComponents, engagementScore } from 'src/scoring/domain/engagement-score';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { anyFeatures, NOW } from 'test/utils/patient-features.arbitrary';
import { DAY_MS } from 'src/common/time/calendar';

const daysAgo = (days: number): number => NOW - days * DAY_MS;
const engaged = (extra: Partial<PatientFeatures> = {}): PatientFeatures =>
  emptyFeatures({
    registeredAt: daysAgo(700),
    lastEngagementAt: daysAgo(3),
    decayedVisits: 12,
    decayedOutreach: 8,
    decayedReplies: 8,
    avgReplyHours: 2,
    weightedSatisfaction: 5,
    planSessionsDue: 10,
    planSessionsDone: 10,
    referralsMade: 4,
    ...extra,
  });

describe('engagementScore', () => {
  it('weights sum to 100', () => {
    expect(Object.values(ENGAGEMENT_WEIGHTS).reduce((s, w) => s + w, 0)).toBe(100);
  });

  it('is high for a fully engaged patient and low for a disengaged one', () => {
    expect(engagementScore(engaged(), NOW)).toBeGreaterThan(85);
    const disengaged = engaged({ lastEngagementAt: daysAgo(400), decayedVisits: 0.5, decayedNoShows: 3, decayedReplies: 0, weightedSatisfaction: 1.5, decayedComplaints: 1, planSessionsDone: 2, referralsMade: 0 });
    expect(engagementScore(disengaged, NOW)).toBeLessThan(25);
  });

  it('gives a patient without data a middling score, from neutral priors', () => {
    const components = engagementComponents(emptyFeatures());
    expect(components).toEqual({ attendance: 0.8, responsiveness: expect.closeTo(0.76, 10), satisfaction: 0.6, compliance: 0.8, referrals: 0 });
    expect(engagementScore(emptyFeatures(), NOW)).toBeCloseTo(0.5 * (24 + 19 + 12 + 12), 1);
  });

  it('weights recency: the same history scores lower the longer ago the last engagement', () => {
    const recent = engagementScore(engaged({ lastEngagementAt: daysAgo(1) }), NOW);
    const halfLife = engagementScore(engaged({ lastEngagementAt: daysAgo(180) }), NOW);
    expect(halfLife).toBeLessThan(recent);
    expect(halfLife / recent).toBeCloseTo(0.75 / (0.5 + 0.5 * Math.pow(2, -1 / 180)), 2);
  });

  it('rewards attendance, replies, satisfaction, referrals and compliance', () => {
    const base = engaged({ decayedVisits: 3, decayedNoShows: 2, decayedReplies: 2, weightedSatisfaction: 3, referralsMade: 0, planSessionsDone: 5 });
    const score = engagementScore(base, NOW);
    expect(engagementScore({ ...base, decayedVisits: 8 }, NOW)).toBeGreaterThan(score);
    expect(engagementScore({ ...base, decayedReplies: 7 }, NOW)).toBeGreaterThan(score);
    expect(engagementScore({ ...base, weightedSatisfaction: 4.5 }, NOW)).toBeGreaterThan(score);
    expect(engagementScore({ ...base, referralsMade: 2 }, NOW)).toBeGreaterThan(score);
    expect(engagementScore({ ...base, planSessionsDone: 9 }, NOW)).toBeGreaterThan(score);
    expect(engagementScore({ ...base, decayedComplaints: 1 }, NOW)).toBeLessThan(score);
  });

  it('is always finite, in [0, 100], with one decimal', () => {
    fc.assert(
      fc.property(anyFeatures, fc.integer({ min: 0, max: 2 * NOW }), (features, now) => {
        const score = engagementScore(features, now);
        return Number.isFinite(score) && score >= 0 && score <= 100 && Math.round(score * 10) === score * 10;
      }),
      { numRuns: 2000 },
    );
  });

  it('every component stays in [0, 1]', () => {
    fc.assert(
      fc.property(anyFeatures, (features) => Object.values(engagementComponents(features)).every((v) => v >= 0 && v <= 1)),
    );
  });
});
