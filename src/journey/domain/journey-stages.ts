import { knownVisitIntervalDays, lapseAfterDays, LAPSE_USUAL_INTERVALS } from 'src/scoring/domain/visit-rhythm';
import { DAY_MS } from 'src/common/time/calendar';

/**
 * The journey model of a clinic patient (docs/journey.md): pure functions over plain data, no clock reads.
 *
 *   new_lead ──visit──► first_visit ──visit──► active_care ──plan completed──► maintenance
 *                            │                     │                               │
 *                            └──── no visit for L ─┴──► lapsed ◄── no visit for M ─┘
 *                                                         │
 *                                  reactivated ◄──visit───┘ ──visit──► active_care
 *
 * L = max(90 days, 2 usual intervals), M = max(365 days, 2 usual intervals). The usual interval is the risk score's and the opportunities' (src/scoring/domain/visit-rhythm.ts), as known at
 * each point of the replay: from the visits up to the last one. So a patient seen every six months lapses after a
 * year without a visit, not 90 days after each check-up.
 *
 * A `journey_event` naming one of these stages moves the patient there at its time (an automation or CRM knows
 * something the records do not); events naming other stages are ignored.
 */
export const JourneyStage = {
  NewLead: 'new_lead',
  FirstVisit: 'first_visit',
  ActiveCare: 'active_care',
  Maintenance: 'maintenance',
  Lapsed: 'lapsed',
  Reactivated: 'reactivated',
} as const;
export type JourneyStage = (typeof JourneyStage)[keyof typeof JourneyStage];

const STAGES: readonly string[] = Object.values(JourneyStage);
export const isJourneyStage = (s: string): s is JourneyStage => STAGES.includes(s);

/**
 * Days without a completed visit after which a patient in care (first visit, active care, reactivated) has lapsed,
 * at least: LAPSE_USUAL_INTERVALS (2) usual intervals when those are longer (visit-rhythm.ts).
 */
export const CARE_LAPSE_DAYS = 90;
/** The same for a patient in maintenance (recall): a missed yearly recall, or two usual intervals when longer. */
export const MAINTENANCE_LAPSE_DAYS = 365;


/** Stages a completed treatment plan moves on to maintenance. */
const IN_CARE: ReadonlySet<JourneyStage> = new Set([JourneyStage.FirstVisit, JourneyStage.ActiveCare, JourneyStage.Reactivated]);

export interface JourneyFacts {
  registeredAt: Date;
  /** Completed appointments at or before `now`, any order. */
  visits: Date[];
  /** When each completed treatment plan was completed (at or before `now`). */
  plansCompleted: Date[];
  /** Stage changes sent by automations or a CRM, at or before `now`. */
  events: { at: Date; stage: string; outcome: string | null }[];
  now: Date;
}

export interface CompletedStage {
  stage: JourneyStage;
  completedAt: Date;
  outcome: string;
}

export interface Journey {
  currentStage: JourneyStage;
  journeyStart: Date;
  stagesCompleted: CompletedStage[];
}

type Signal =
  { kind: 'visit'; at: Date } | { kind: 'plan'; at: Date } | { kind: 'event'; at: Date; stage: JourneyStage; outcome: string | null };

/** Order of signals at the same instant: a visit first, then a plan completion, then an event (which has the last word). */
const KIND_ORDER: Record<Signal['kind'], number> = { visit: 0, plan: 1, event: 2 };

/** The stage's fixed lapse threshold in days (the floor of the rhythm rule), null for stages that do not lapse. */
export function lapseDays(stage: JourneyStage): number | null {
  switch (stage) {
    case JourneyStage.FirstVisit:
    case JourneyStage.ActiveCare:
    case JourneyStage.Reactivated:
      return CARE_LAPSE_DAYS;
    case JourneyStage.Maintenance:
      return MAINTENANCE_LAPSE_DAYS;
    case JourneyStage.NewLead:
    case JourneyStage.Lapsed:
      return null;
  }
}

/** Replays a patient's visits, plan completions and journey events into stages. */
export function deriveJourney(facts: JourneyFacts): Journey {
  const signals: Signal[] = [
    ...facts.visits.map((at): Signal => ({ kind: 'visit', at })),
    ...facts.plansCompleted.map((at): Signal => ({ kind: 'plan', at })),
    ...facts.events
      .filter((e) => isJourneyStage(e.stage))
      .map((e): Signal => ({ kind: 'event', at: e.at, stage: e.stage as JourneyStage, outcome: e.outcome })),
  ]
    .filter((s) => s.at.getTime() <= facts.now.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime() || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);

  const start = new Date(Math.min(facts.registeredAt.getTime(), ...signals.map((s) => s.at.getTime())));
  let current: JourneyStage = JourneyStage.NewLead;
  let lastVisit: Date | null = null;
  let firstVisit: Date | null = null;
  let visitCount = 0;
  const completed: CompletedStage[] = [];
  const move = (to: JourneyStage, at: Date, outcome: string): void => {
    if (to === current) return;
    completed.push({ stage: current, completedAt: at, outcome });
    current = to;
  };
  const checkLapse = (until: Date): void => {
    const floor = lapseDays(current);
    if (floor === null || lastVisit === null) return;
    const usual = knownVisitIntervalDays({ visits: visitCount, firstVisitAt: firstVisit?.getTime() ?? null, lastVisitAt: lastVisit.getTime() });
    const days = lapseAfterDays(floor, usual);
    const lapseAt = lastVisit.getTime() + days * DAY_MS;
    if (until.getTime() <= lapseAt) return;
    const why = days > floor && usual !== null ? ` (${LAPSE_USUAL_INTERVALS} × the usual ${Math.round(usual)} days)` : '';
    move(JourneyStage.Lapsed, new Date(lapseAt), `no visit for ${days} days${why}`);
  };

  for (const s of signals) {
    checkLapse(s.at);
    switch (s.kind) {
      case 'visit':
        visit(s.at);
        lastVisit = s.at;
        firstVisit ??= s.at;
        visitCount++;
        break;
      case 'plan':
        if (IN_CARE.has(current)) move(JourneyStage.Maintenance, s.at, 'treatment plan completed');
        break;
      case 'event':
        move(s.stage, s.at, s.outcome ?? `moved to ${s.stage} by an automation`);
        break;
    }
  }
  checkLapse(facts.now);
  return { currentStage: current, journeyStart: start, stagesCompleted: completed };

  function visit(at: Date): void {
    switch (current) {
      case JourneyStage.NewLead:
        move(JourneyStage.FirstVisit, at, 'first visit completed');
        break;
      case JourneyStage.FirstVisit:
        move(JourneyStage.ActiveCare, at, 'returned for a second visit');
        break;
      case JourneyStage.Lapsed: {
        const away = lastVisit ? Math.floor((at.getTime() - lastVisit.getTime()) / DAY_MS) : null;
        move(JourneyStage.Reactivated, at, away === null ? 'returned' : `returned after ${away} days`);
        break;
      }
      case JourneyStage.Reactivated:
        move(JourneyStage.ActiveCare, at, 'returned for a further visit');
        break;
      case JourneyStage.ActiveCare:
      case JourneyStage.Maintenance:
        break;
    }
  }
}

/** Progress through an automation sequence, 0..100: the share of its steps already done (`step_index` of `total_steps`). */
export function automationProgress(stepIndex: number, totalSteps: number): number {
  if (totalSteps <= 0) return 0;
  const done = Math.min(Math.max(stepIndex, 0), totalSteps);
  return Math.round((done / totalSteps) * 100);
}
