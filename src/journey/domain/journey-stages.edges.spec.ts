import { deriveJourney } from 'src/journey/domain/journey-stages';

/** Events and plans outside the usual path (the lapse rule is tested in journey-stages.spec.ts). */
const NOW = new Date('2026-11-24T12:00:00Z');
const at = (iso: string): Date => new Date(iso);
const facts = (over: Partial<Parameters<typeof deriveJourney>[0]>) => ({
  registeredAt: at('2026-01-01T00:00:00Z'),
  visits: [],
  plansCompleted: [],
  events: [],
  now: NOW,
  ...over,
});

describe('journey stages: events and plans outside the usual path', () => {
  it('an event to the stage the patient is already in records nothing', () => {
    const j = deriveJourney(facts({ events: [{ at: at('2026-02-01T00:00:00Z'), stage: 'new_lead', outcome: 'still a lead' }] }));
    expect(j).toMatchObject({ currentStage: 'new_lead', stagesCompleted: [] });
  });

  it('a plan completed outside care moves nothing; an event without outcome gets a default one', () => {
    const j = deriveJourney(
      facts({
        plansCompleted: [at('2026-02-01T00:00:00Z')],
        events: [{ at: at('2026-03-01T00:00:00Z'), stage: 'active_care', outcome: null }],
      }),
    );
    expect(j.currentStage).toBe('active_care');
    expect(j.stagesCompleted).toEqual([{ stage: 'new_lead', completedAt: at('2026-03-01T00:00:00Z'), outcome: 'moved to active_care by an automation' }]);
  });

  it('lapsed by an event before any visit, the first visit reactivates without a time away', () => {
    const j = deriveJourney(
      facts({
        events: [{ at: at('2026-02-01T00:00:00Z'), stage: 'lapsed', outcome: 'imported as lapsed' }],
        visits: [at('2026-11-01T10:00:00Z')],
      }),
    );
    expect(j.currentStage).toBe('reactivated');
    expect(j.stagesCompleted.map((s) => s.outcome)).toEqual(['imported as lapsed', 'returned']);
  });
});
