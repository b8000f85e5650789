import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import { lastContact, responsiveness, visitGap } from 'src/scoring/domain/risk-components';
import { MIN_FACTOR_POINTS, riskScore } from 'src/scoring/domain/risk-score';
import { DEFAULT_SCORING_SETTINGS as S } from 'src/scoring/domain/scoring-settings';

/** The risk components' documented boundaries (docs/scoring.md), each with a case on both sides. */
const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;
const ago = (days: number): number => NOW - days * DAY;

describe('risk component boundaries', () => {
  // lastContact = clamp((d − 30) / (2 · (90 − 30))): 0 up to 30 days, 1 from 150 days.
  it.each([
    [29, 0],
    [30, 0],
    [31, 1 / 120],
    [149, 119 / 120],
    [150, 1],
    [151, 1],
  ])('last contact %s days ago: %s', (days, value) => {
    expect(lastContact(emptyFeatures({ lastEngagementAt: ago(days) }), NOW, S).value).toBeCloseTo(value, 10);
  });

  // visitGap = clamp((days since the last visit / usual − 1) / 3): 0 up to 1× the usual interval, 1 from 4×.
  const visits = (sinceLast: number, booked = false): PatientFeatures =>
    emptyFeatures({ firstVisitAt: ago(sinceLast + 100), lastVisitAt: ago(sinceLast), completedVisits: 3, nextAppointmentAt: booked ? NOW + DAY : null });
  it.each([
    [49, 0], // usual interval (last − first) / (3 − 1) = 100 / 2 = 50 days
    [50, 0], // 1×
    [51, 1 / 150], // (51/50 − 1) / 3
    [199, 149 / 150], // (199/50 − 1) / 3
    [200, 1], // 4×
    [201, 1],
  ])('visit gap, %s days since the last visit with a 50-day rhythm: %s', (days, value) => {
    expect(visitGap(visits(days), NOW, S).value).toBeCloseTo(value, 10);
  });

  it('a booked visit cuts the visit gap by 70 %, at 4× as below it', () => {
    expect(visitGap(visits(200, true), NOW, S).value).toBeCloseTo(0.3, 10);
    expect(visitGap(visits(125, true), NOW, S).value).toBeCloseTo(0.3 * 0.5, 10);
  });

  // responsiveness lag part = clamp((avgReplyHours − 24) / 144): 0 up to a day, 1 from a week (168 h).
  const lagPart = (hours: number | null): number => {
    const f = emptyFeatures({ decayedOutreach: 2, decayedReplies: 2, avgReplyHours: hours });
    const rateOnly = 0.75 * (1 - (2 + 1.4) / (2 + 2));
    return (responsiveness(f).value - rateOnly) / 0.25;
  };
  it.each([
    [null, 0],
    [23, 0],
    [24, 0],
    [25, 1 / 144],
    [167, 143 / 144],
    [168, 1],
    [169, 1],
  ])('reply lag of %s hours: %s', (hours, value) => {
    expect(lagPart(hours)).toBeCloseTo(value, 10);
  });

  it('names the lag in the fact only above a day', () => {
    expect(responsiveness(emptyFeatures({ decayedOutreach: 2, decayedReplies: 2, avgReplyHours: 24 })).fact).toBe('Answers about 100% of messages from the clinic');
    expect(responsiveness(emptyFeatures({ decayedOutreach: 2, decayedReplies: 2, avgReplyHours: 48 })).fact).toBe(
      'Answers about 100% of messages from the clinic; takes about 2 days to reply',
    );
  });

  // A component becomes a factor from MIN_FACTOR_POINTS (2.5) points: lastContact at 13 · (d − 30) / 120 points.
  it('names a factor from 2.5 points, not below', () => {
    expect(MIN_FACTOR_POINTS).toBe(2.5);
    const at = (days: number) => riskScore(emptyFeatures({ lastEngagementAt: ago(days), registeredAt: ago(1000) }), NOW);
    const exact = 30 + (120 * 2.5) / 13; // 53.08 days → 2.5 points
    const above = at(exact + 0.01);
    const below = at(exact - 0.01);
    const points = (r: ReturnType<typeof at>) => r.contributions.find((c) => c.key === 'lastContact')!.points;
    expect(points(above)).toBeGreaterThanOrEqual(2.5);
    expect(points(below)).toBeLessThan(2.5);
    expect(above.factors).toContain('No contact for 53 days');
    expect(below.factors).not.toContain('No contact for 53 days');
  });
});
