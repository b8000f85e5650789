import { automationProgress, deriveJourney, JourneyFacts } from 'src/journey/domain/journey-stages';

const d = (s: string): Date => new Date(`${s}T10:00:00.000Z`);
const facts = (f: Partial<JourneyFacts>): JourneyFacts => ({
  registeredAt: d('2026-01-01'),
  visits: [],
  plansCompleted: [],
  events: [],
  now: d('2026-11-24'),
  ...f,
});
const stages = (f: Partial<JourneyFacts>): string[] => {
  const j = deriveJourney(facts(f));
  return [...j.stagesCompleted.map((s) => s.stage), j.currentStage];
};

describe('deriveJourney', () => {
  it('a registered patient who never came is a new lead', () => {
    const j = deriveJourney(facts({}));
    expect(j.currentStage).toBe('new_lead');
    expect(j.stagesCompleted).toEqual([]);
    expect(j.journeyStart).toEqual(d('2026-01-01'));
  });

  it('first visit, then active care on the second visit', () => {
    expect(stages({ visits: [d('2026-11-01')] })).toEqual(['new_lead', 'first_visit']);
    const j = deriveJourney(facts({ visits: [d('2026-11-10'), d('2026-10-20')] }));
    expect(j.stagesCompleted).toEqual([
      { stage: 'new_lead', completedAt: d('2026-10-20'), outcome: 'first visit completed' },
      { stage: 'first_visit', completedAt: d('2026-11-10'), outcome: 'returned for a second visit' },
    ]);
    expect(j.currentStage).toBe('active_care');
  });

  it('lapses 90 days after the last visit in care, at that day', () => {
    const j = deriveJourney(facts({ visits: [d('2026-03-01'), d('2026-04-01')] }));
    expect(j.currentStage).toBe('lapsed');
    expect(j.stagesCompleted[2]).toEqual({ stage: 'active_care', completedAt: d('2026-06-30'), outcome: 'no visit for 90 days' });
  });

  it('a visit after lapsing reactivates, the next one returns to active care', () => {
    const now = d('2026-07-15');
    expect(stages({ visits: [d('2026-01-10'), d('2026-06-01')], now })).toEqual(['new_lead', 'first_visit', 'lapsed', 'reactivated']);
    // Two visits 142 days apart: the usual interval is 142 days now, so they lapse again only after 2 × 142 days.
    expect(stages({ visits: [d('2026-01-10'), d('2026-06-01')] })).toEqual(['new_lead', 'first_visit', 'lapsed', 'reactivated']);
    expect(stages({ visits: [d('2026-01-10'), d('2026-06-01')], now: d('2027-03-12') })).toEqual(['new_lead', 'first_visit', 'lapsed', 'reactivated']);
    const again = deriveJourney(facts({ visits: [d('2026-01-10'), d('2026-06-01')], now: d('2027-03-13') }));
    expect(again.currentStage).toBe('lapsed');
    expect(again.stagesCompleted[3]).toEqual({ stage: 'reactivated', completedAt: d('2027-03-12'), outcome: 'no visit for 284 days (2 × the usual 142 days)' });
    const j = deriveJourney(facts({ visits: [d('2026-01-10'), d('2026-06-01')], now }));
    expect(j.stagesCompleted[2].outcome).toBe('returned after 142 days');
    expect(stages({ visits: [d('2026-01-10'), d('2026-06-01'), d('2026-07-01'), d('2026-09-01')], now: d('2026-10-01') })).toEqual([
      'new_lead',
      'first_visit',
      'lapsed',
      'reactivated',
      'active_care',
    ]);
  });

  it('a completed treatment plan moves to maintenance, which lapses only after a year', () => {
    const f = { visits: [d('2026-02-01'), d('2026-03-01')], plansCompleted: [d('2026-03-01')] };
    expect(stages(f)).toEqual(['new_lead', 'first_visit', 'active_care', 'maintenance']);
    expect(stages({ ...f, now: d('2027-03-02') })).toEqual(['new_lead', 'first_visit', 'active_care', 'maintenance', 'lapsed']);
  });

  it('journey events move the patient; unknown stages are ignored; the journey starts at the earliest fact', () => {
    const j = deriveJourney(
      facts({
        registeredAt: d('2026-05-01'),
        visits: [d('2026-04-01')],
        events: [
          { at: d('2026-04-15'), stage: 'maintenance', outcome: 'moved to recall list' },
          { at: d('2026-04-20'), stage: 'vip', outcome: null },
        ],
      }),
    );
    expect(j.journeyStart).toEqual(d('2026-04-01'));
    expect(j.stagesCompleted.map((s) => [s.stage, s.outcome])).toEqual([
      ['new_lead', 'first visit completed'],
      ['first_visit', 'moved to recall list'],
    ]);
    expect(j.currentStage).toBe('maintenance');
  });

  it('ignores facts after now', () => {
    expect(stages({ visits: [d('2026-12-01')] })).toEqual(['new_lead']);
  });
});

describe('automationProgress', () => {
  it('is the share of steps done, clamped to 0..100', () => {
    expect(automationProgress(2, 4)).toBe(50);
    expect(automationProgress(1, 3)).toBe(33);
    expect(automationProgress(7, 4)).toBe(100);
    expect(automationProgress(-1, 4)).toBe(0);
    expect(automationProgress(0, 0)).toBe(0);
  });
});
