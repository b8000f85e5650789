import fc from 'fast-check';
import { emptyFeatures } from 'src/scoring/domain/patient-features';
import { classifyStatus, daysSinceEngagement, hasAppointmentHistory, isDecliningEngagement, PATIENT_STATUSES } from 'src/scoring/domain/patient-status';
import { DEFAULT_SCORING_SETTINGS, scoringSettings } from 'src/scoring/domain/scoring-settings';
import { anyFeatures } from 'test/utils/patient-features.arbitrary';
import { DAY_MS } from 'src/common/time/calendar';

const NOW = Date.UTC(2026, 2, 1, 9, 30);
const daysAgo = (days: number): number => NOW - days * DAY_MS;
/** A patient with appointment history whose last engagement was `days` ago. */
const engagedDaysAgo = (days: number, extra = {}) =>
  emptyFeatures({ registeredAt: daysAgo(400), firstVisitAt: daysAgo(300), lastVisitAt: daysAgo(days), completedVisits: 5, lastEngagementAt: daysAgo(days), ...extra });

describe('classifyStatus boundaries (days since last engagement)', () => {
  it.each([
    [0, 'active'],
    [29, 'active'],
    [29.999, 'active'],
    [30, 'dormant'],
    [31, 'dormant'],
    [89, 'dormant'],
    [89.999, 'dormant'],
    [90, 'at_risk'],
    [91, 'at_risk'],
    [1000, 'at_risk'],
  ])('%p days → %p', (days, expected) => {
    expect(classifyStatus(engagedDaysAgo(days), NOW)).toBe(expected);
  });

  it('an engagement dated in the future counts as today', () => {
    expect(classifyStatus(engagedDaysAgo(-5), NOW)).toBe('active');
  });
});

describe('classifyStatus: upcoming appointment', () => {
  it.each([31, 91, 5000])('an upcoming appointment makes a patient silent for %p days active', (days) => {
    expect(classifyStatus(engagedDaysAgo(days, { nextAppointmentAt: NOW + DAY_MS }), NOW)).toBe('active');
  });

  it('an appointment at exactly now or in the past is not upcoming', () => {
    expect(classifyStatus(engagedDaysAgo(95, { nextAppointmentAt: NOW }), NOW)).toBe('at_risk');
    expect(classifyStatus(engagedDaysAgo(95, { nextAppointmentAt: NOW - 1 }), NOW)).toBe('at_risk');
  });

  it('keeps a new patient with a booked first visit active', () => {
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(60), nextAppointmentAt: NOW + 7 * DAY_MS }), NOW)).toBe('active');
  });
});

describe('classifyStatus: no history', () => {
  it('counts registration as the first engagement', () => {
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(0) }), NOW)).toBe('active');
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(29) }), NOW)).toBe('active');
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(30) }), NOW)).toBe('at_risk'); // no appointment history: not dormant
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(120) }), NOW)).toBe('at_risk');
  });

  it('a patient we know nothing about is at risk', () => {
    expect(classifyStatus(emptyFeatures(), NOW)).toBe('at_risk');
  });

  it('engagement without any appointment (e.g. messages) is dormant-band but at risk', () => {
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(200), lastEngagementAt: daysAgo(45) }), NOW)).toBe('at_risk');
    expect(classifyStatus(emptyFeatures({ registeredAt: daysAgo(200), lastEngagementAt: daysAgo(10) }), NOW)).toBe('active');
  });

  it('a missed or cancelled past appointment is appointment history', () => {
    const features = emptyFeatures({ registeredAt: daysAgo(200), lastEngagementAt: daysAgo(45), recentAppointments: 1, recentNoShows: 1 });
    expect(hasAppointmentHistory(features)).toBe(true);
    expect(classifyStatus(features, NOW)).toBe('dormant');
  });

  it('uses the last engagement rather than registration when both exist', () => {
    expect(daysSinceEngagement(emptyFeatures({ registeredAt: daysAgo(5), lastEngagementAt: daysAgo(40) }), NOW)).toBeCloseTo(40, 10);
    expect(daysSinceEngagement(emptyFeatures(), NOW)).toBeNull();
  });
});

describe('declining engagement pattern', () => {
  // Default windows: recent = last 90 days, prior = the 180 days before; declining when recent/90 < 0.5 · prior/180.
  it('needs at least 4 events in the earlier window', () => {
    expect(isDecliningEngagement(emptyFeatures({ engagementsPrior: 3, engagementsRecent: 0 }))).toBe(false);
    expect(isDecliningEngagement(emptyFeatures({ engagementsPrior: 4, engagementsRecent: 0 }))).toBe(true);
  });

  it('is a drop of more than half in the daily rate', () => {
    // prior 12 in 180 days = 1/15 per day; half = 1/30 per day = 3 in 90 days.
    expect(isDecliningEngagement(emptyFeatures({ engagementsPrior: 12, engagementsRecent: 2 }))).toBe(true);
    expect(isDecliningEngagement(emptyFeatures({ engagementsPrior: 12, engagementsRecent: 3 }))).toBe(false);
    expect(isDecliningEngagement(emptyFeatures({ engagementsPrior: 12, engagementsRecent: 10 }))).toBe(false);
  });

  it('turns dormant into at risk, but never an active patient', () => {
    const declining = { engagementsPrior: 12, engagementsRecent: 1 };
    expect(classifyStatus(engagedDaysAgo(45, declining), NOW)).toBe('at_risk');
    expect(classifyStatus(engagedDaysAgo(45), NOW)).toBe('dormant');
    expect(classifyStatus(engagedDaysAgo(10, declining), NOW)).toBe('active');
    expect(classifyStatus(engagedDaysAgo(45, { ...declining, nextAppointmentAt: NOW + DAY_MS }), NOW)).toBe('active');
  });
});

describe('classifyStatus settings and robustness', () => {
  it('follows organization thresholds', () => {
    const settings = scoringSettings({ activeWithinDays: 14, atRiskAfterDays: 60 });
    expect(classifyStatus(engagedDaysAgo(13), NOW, settings)).toBe('active');
    expect(classifyStatus(engagedDaysAgo(14), NOW, settings)).toBe('dormant');
    expect(classifyStatus(engagedDaysAgo(60), NOW, settings)).toBe('at_risk');
    expect(classifyStatus(engagedDaysAgo(60), NOW, DEFAULT_SCORING_SETTINGS)).toBe('dormant');
  });

  it('always returns one of the three statuses, for any features', () => {
    fc.assert(fc.property(anyFeatures, (features) => PATIENT_STATUSES.includes(classifyStatus(features, NOW))));
  });

  it('a more recent engagement never worsens the status', () => {
    const rank = { active: 0, dormant: 1, at_risk: 2 } as const;
    fc.assert(
      fc.property(anyFeatures, fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 2000 }), (features, d1, d2) => {
        const older = classifyStatus({ ...features, lastEngagementAt: daysAgo(Math.max(d1, d2)) }, NOW);
        const newer = classifyStatus({ ...features, lastEngagementAt: daysAgo(Math.min(d1, d2)) }, NOW);
        return rank[newer] <= rank[older];
      }),
    );
  });
});
