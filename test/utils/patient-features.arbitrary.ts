/** fast-check generators of type-valid but arbitrary (zeros, huge numbers, negatives, nulls) patient features. */
import fc from 'fast-check';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const YEAR_MS = 365 * 86_400_000;

/** Counts and amounts, including the garbage the scoring functions must survive. */
export const anyCount = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0, max: 50, noNaN: true }),
  fc.integer({ min: 0, max: 1_000 }),
  fc.constantFrom(-1, 1e9, 1e300, Number.MAX_VALUE, Infinity, -Infinity, NaN),
);

/** Dates around NOW (±10 years), plus extremes and null. */
export const anyDate = fc.oneof(
  fc.constant(null),
  fc.integer({ min: NOW - 10 * YEAR_MS, max: NOW + YEAR_MS }),
  fc.constantFrom(0, -8.64e15, 8.64e15, NaN, Infinity),
);

const nullableCount = fc.oneof(fc.constant(null), anyCount);

export const anyFeatures: fc.Arbitrary<PatientFeatures> = fc.record({
  registeredAt: anyDate,
  marketingConsent: fc.boolean(),
  appointmentReminders: fc.boolean(),
  lastEngagementAt: anyDate,
  engagementsRecent: anyCount,
  engagementsPrior: anyCount,
  nextAppointmentAt: anyDate,
  firstVisitAt: anyDate,
  lastVisitAt: anyDate,
  completedVisits: anyCount,
  visitValueCents: anyCount,
  decayedVisits: anyCount,
  decayedNoShows: anyCount,
  decayedCancellations: anyCount,
  recentAppointments: anyCount,
  recentNoShows: anyCount,
  recentCancellations: anyCount,
  decayedOutreach: anyCount,
  decayedReplies: anyCount,
  avgReplyHours: nullableCount,
  preferredChannelOutreach: anyCount,
  preferredChannelReplies: anyCount,
  netRevenueCents: fc.oneof(anyCount, fc.integer({ min: -1_000_000, max: 0 })),
  decayedFailedPayments: anyCount,
  overduePayments: anyCount,
  weightedSatisfaction: nullableCount,
  complaints: anyCount,
  decayedComplaints: anyCount,
  referralsMade: anyCount,
  referredNetRevenueCents: anyCount,
  activePlanRemainingValueCents: anyCount,
  activePlanSessionsBehind: anyCount,
  abandonedPlans: anyCount,
  planSessionsDue: anyCount,
  planSessionsDone: anyCount,
});

/** Realistic features: finite, consistent dates in the past. */
export const realisticFeatures: fc.Arbitrary<PatientFeatures> = fc
  .record({
    first: fc.integer({ min: 1, max: 5 * 365 }),
    span: fc.double({ min: 0, max: 1, noNaN: true }),
    visits: fc.integer({ min: 0, max: 60 }),
    decayedNoShows: fc.double({ min: 0, max: 10, noNaN: true }),
    decayedOutreach: fc.double({ min: 0, max: 30, noNaN: true }),
    replyShare: fc.double({ min: 0, max: 1, noNaN: true }),
    satisfaction: fc.option(fc.double({ min: 1, max: 5, noNaN: true })),
    next: fc.option(fc.integer({ min: 1, max: 120 })),
    marketingConsent: fc.boolean(),
  })
  .map((r) => {
    const firstAt = NOW - r.first * 86_400_000;
    const lastAt = firstAt + r.span * (NOW - firstAt);
    return {
      ...emptyFeatures(),
      registeredAt: firstAt - 86_400_000,
      marketingConsent: r.marketingConsent,
      firstVisitAt: r.visits > 0 ? firstAt : null,
      lastVisitAt: r.visits > 0 ? (r.visits > 1 ? lastAt : firstAt) : null,
      lastEngagementAt: r.visits > 0 ? (r.visits > 1 ? lastAt : firstAt) : null,
      completedVisits: r.visits,
      visitValueCents: r.visits * 9_000,
      decayedVisits: r.visits * 0.6,
      decayedNoShows: r.decayedNoShows,
      decayedOutreach: r.decayedOutreach,
      decayedReplies: r.decayedOutreach * r.replyShare,
      weightedSatisfaction: r.satisfaction,
      nextAppointmentAt: r.next === null ? null : NOW + r.next * 86_400_000,
    };
  });
