import { deriveJourney } from 'src/journey/domain/journey-stages';
import { expectedNextVisit, usualIntervalDays } from 'src/opportunities/domain/opportunity-rules';
import { emptyFeatures } from 'src/scoring/domain/patient-features';
import { usualVisitIntervalDays } from 'src/scoring/domain/risk-components';
import { DEFAULT_SCORING_SETTINGS } from 'src/scoring/domain/scoring-settings';
import { knownVisitIntervalDays, lapseAfterDays, visitIntervalDaysOr } from 'src/scoring/domain/visit-rhythm';
import { SeedRandom } from 'src/demo-data/seed-random';

const DAY = 86_400_000;
const T0 = Date.parse('2020-01-06T09:00:00Z');
const span = (visits: number[]) => ({ visits: visits.length, firstVisitAt: visits.length ? Math.min(...visits) : null, lastVisitAt: visits.length ? Math.max(...visits) : null });

describe('visit rhythm', () => {
  it('knows the usual interval from two visits: the mean gap, at least a week', () => {
    expect(knownVisitIntervalDays(span([]))).toBeNull();
    expect(knownVisitIntervalDays(span([T0]))).toBeNull();
    expect(knownVisitIntervalDays(span([T0, T0 + 30 * DAY, T0 + 90 * DAY]))).toBe(45);
    expect(knownVisitIntervalDays(span([T0, T0 + 2 * DAY]))).toBe(7);
    expect(knownVisitIntervalDays(span([T0, T0]))).toBe(7);
    expect(knownVisitIntervalDays({ visits: Number.NaN, firstVisitAt: T0, lastVisitAt: T0 + DAY })).toBeNull();
    expect(knownVisitIntervalDays({ visits: 3, firstVisitAt: Number.NaN, lastVisitAt: T0 })).toBeNull();
    expect(visitIntervalDaysOr(span([T0]), 90)).toBe(90);
    expect(visitIntervalDaysOr(span([T0, T0 + 182 * DAY]), 90)).toBe(182);
  });

  it('lapses after the fixed threshold or two usual intervals, whichever is longer, in whole days', () => {
    expect(lapseAfterDays(90, null)).toBe(90);
    expect(lapseAfterDays(90, 7)).toBe(90);
    expect(lapseAfterDays(90, 45)).toBe(90);
    expect(lapseAfterDays(90, 45.2)).toBe(91);
    expect(lapseAfterDays(90, 182)).toBe(364);
    expect(lapseAfterDays(365, 182)).toBe(365);
    expect(lapseAfterDays(365, 200)).toBe(400);
    expect(lapseAfterDays(90, Number.NaN)).toBe(90);
  });

  /** Visits every `interval` days ± `spread`, drawn with a seed. */
  const regular = (seed: number, count: number, interval: number, spread: number): number[] => {
    const rng = new SeedRandom(seed);
    const out = [T0];
    while (out.length < count) out.push(out[out.length - 1] + Math.round(rng.jitter(interval, spread) * DAY));
    return out;
  };
  const at = (ms: number): Date => new Date(ms);

  it('a six-monthly regular patient never lapses between regular visits once the rhythm is known', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const visits = regular(seed, 12, 182, 0.15);
      const last = visits[visits.length - 1];
      const usual = (last - T0) / DAY / (visits.length - 1);
      // Every week from the second visit until two usual intervals after the last one, and just before each visit.
      const instants: number[] = visits.slice(2).map((v) => v - 1);
      for (let now = visits[1]; now <= last + Math.ceil(2 * usual) * DAY; now += 7 * DAY) instants.push(now);
      instants.push(last + Math.ceil(2 * usual) * DAY);
      for (const now of instants) {
        const j = deriveJourney({ registeredAt: at(T0), visits: visits.map(at), plansCompleted: [], events: [], now: at(now) });
        expect(j.currentStage).toBe(now < visits[2] ? 'reactivated' : 'active_care');
        // The only lapse is the one before the second visit: one visit alone tells no rhythm, 90 days apply.
        expect(j.stagesCompleted.filter((s) => s.stage === 'lapsed')).toHaveLength(1);
        expect(j.stagesCompleted.find((s) => s.stage === 'first_visit')).toMatchObject({ outcome: 'no visit for 90 days' });
      }
      // About a year without the next check-up: lapsed, two usual intervals after the last visit.
      const j = deriveJourney({ registeredAt: at(T0), visits: visits.map(at), plansCompleted: [], events: [], now: at(last + 500 * DAY) });
      expect(j.currentStage).toBe('lapsed');
      expect(j.stagesCompleted[j.stagesCompleted.length - 1].completedAt).toEqual(at(last + Math.ceil(2 * usual) * DAY));
    }
  });

  it('a six-monthly patient in maintenance lapses after two usual intervals when those exceed a year', () => {
    const visits = regular(3, 6, 200, 0.05);
    const plan = visits[1];
    const last = visits[visits.length - 1];
    const j = deriveJourney({ registeredAt: at(T0), visits: visits.map(at), plansCompleted: [at(plan)], events: [], now: at(last + 390 * DAY) });
    expect(j.currentStage).toBe('maintenance');
    const usual = (last - T0) / DAY / (visits.length - 1);
    expect(usual).toBeGreaterThan(195);
    const later = deriveJourney({ registeredAt: at(T0), visits: visits.map(at), plansCompleted: [at(plan)], events: [], now: at(last + 2 * usual * DAY + DAY) });
    expect(later.currentStage).toBe('lapsed');
  });

  const cases: number[][] = [
    [],
    [T0],
    [T0, T0 + 3 * DAY],
    [T0, T0 + 7 * DAY, T0 + 14 * DAY, T0 + 21 * DAY],
    [T0, T0 + 30 * DAY, T0 + 61 * DAY],
    regular(5, 8, 182, 0.15),
    regular(6, 4, 91, 0.1),
    [T0, T0 + 400 * DAY],
  ];
  const oppFacts = (s: ReturnType<typeof span>) => ({
    visitCount: s.visits,
    firstVisitAt: s.firstVisitAt === null ? null : at(s.firstVisitAt),
    lastVisitAt: s.lastVisitAt === null ? null : at(s.lastVisitAt),
  });

  it('the risk score and the opportunities use the same usual interval', () => {
    for (const visits of cases) {
      const s = span(visits);
      const known = knownVisitIntervalDays(s);
      // Risk score: the same interval, or its default (90) while unknown.
      const features = emptyFeatures({ completedVisits: s.visits, firstVisitAt: s.firstVisitAt, lastVisitAt: s.lastVisitAt });
      expect(usualVisitIntervalDays(features, DEFAULT_SCORING_SETTINGS)).toBe(known ?? DEFAULT_SCORING_SETTINGS.defaultVisitIntervalDays);
      // Opportunities: the same interval, or none (then a plan's cadence or the recall interval).
      expect(usualIntervalDays(oppFacts(s))).toBe(known);
    }
  });

  it("the opportunities expect the next visit one usual interval after the last", () => {
    const known = cases.map(span).filter((s) => knownVisitIntervalDays(s) !== null);
    expect(known.length).toBe(6);
    for (const s of known) {
      const interval = knownVisitIntervalDays(s) as number;
      const expected = expectedNextVisit(
        {
          ...oppFacts(s),
          patientId: 'p',
          status: 'dormant',
          riskLevel: 'medium',
          ltvCents: 0,
          successProbability: 0.5,
          avgSessionValueCents: 0,
          lastContactAt: null,
          nextAppointmentAt: null,
          marketingConsent: true,
          appointmentReminders: true,
          preferredChannel: 'sms',
          activePlan: null,
          hasCompletedPlan: false,
        },
        180,
      );
      expect(expected).toEqual({ at: at((s.lastVisitAt as number) + interval * DAY), intervalDays: interval, basis: 'usual_interval' });
    }
  });

  it('the journey lapses max(90 days, 2 × that interval) after the last visit (when in care)', () => {
    const visited = cases.filter((v) => v.length > 0);
    expect(visited.length).toBe(7);
    for (const visits of visited) {
      const s = span(visits);
      const known = knownVisitIntervalDays(s);
      const j = deriveJourney({ registeredAt: at(T0), visits: visits.map(at), plansCompleted: [], events: [], now: at((s.lastVisitAt as number) + 2000 * DAY) });
      const lapse = j.stagesCompleted[j.stagesCompleted.length - 1];
      expect(j.currentStage).toBe('lapsed');
      expect(lapse.completedAt).toEqual(at((s.lastVisitAt as number) + Math.max(90, Math.ceil(2 * (known ?? 0))) * DAY));
    }
  });
});
