import { Injectable } from '@nestjs/common';
import { Subject } from 'rxjs';

export interface ScoresRecomputed {
  organizationId: string;
  /** The patients recomputed; absent after an organization-wide recompute (everything may have changed). */
  patientIds?: readonly string[];
}

/**
 * In-process notifications of the scoring engine. Modules that cache aggregates built from `patient_metrics`
 * (counts, risk distribution, engagement overview) subscribe to `recomputed$` and drop the organization's entries:
 *
 *   constructor(events: ScoringEvents) { events.recomputed$.subscribe(({ organizationId }) => this.forget(organizationId)); }
 *
 * Emitted after the recompute's transaction committed. Subscribers must not throw (errors are not caught here).
 */
@Injectable()
export class ScoringEvents {
  readonly recomputed$ = new Subject<ScoresRecomputed>();
}
