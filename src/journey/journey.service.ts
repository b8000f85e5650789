import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Clock } from 'src/common/clock/clock';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import type { PhiPlace } from 'src/records/phi/phi-data-key';
import { PhiReader } from 'src/records/phi/phi-reader';
import { automationProgress, deriveJourney } from 'src/journey/domain/journey-stages';
import { JourneyResponse, TouchpointResponse } from 'src/journey/dto/journey.response';
import { JourneyRepository, JourneyRow } from 'src/journey/journey.repository';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';

export const DEFAULT_TOUCHPOINT_LIMIT = 50;

const iso = (v: string | Date): string => new Date(v).toISOString();

@Injectable()
export class JourneyService {
  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly repository: JourneyRepository,
    private readonly keyring: PhiKeyring,
    private readonly clock: Clock,
  ) {}

  async get(auth: AuthContext, patientId: string, touchpointLimit = DEFAULT_TOUCHPOINT_LIMIT): Promise<JourneyResponse> {
    const now = this.clock.now();
    // The journey's statement prepared on the connection (JOURNEY_STATEMENT); the keys' look-up sent as it is.
    const [row, keys] = await this.tenantDb.statements(
      auth.organizationId,
      (db) => Promise.all([this.repository.find(db, patientId, now, touchpointLimit), this.keyring.keysFor(db, [patientId])]),
      { prepared: true },
    );
    if (!row) throw ProblemException.notFound(ProblemCode.PatientNotFound, 'No patient with this id in this organization');
    const phi = new PhiReader(keys.get(patientId), auth.organizationId);
    return toJourneyResponse(patientId, row, now, (c, place) => phi.text(c, place));
  }
}

/** The response for one patient's journey row (pure: shared with the benchmark's floor server). */
export function toJourneyResponse(
  patientId: string,
  row: JourneyRow,
  now: Date,
  decrypt: (cipher: string | null, place: PhiPlace) => string | null,
): JourneyResponse {
  const journey = deriveJourney({
    registeredAt: new Date(row.registered_at),
    visits: row.visits.map((v) => new Date(v)),
    plansCompleted: row.plans_completed.map((v) => new Date(v)),
    events: row.events.map((e) => ({ at: new Date(e.at), stage: e.stage, outcome: e.outcome })),
    now,
  });
  const e = row.enrollment;
  return {
    journey: {
      patient_id: patientId,
      current_stage: journey.currentStage,
      journey_start: journey.journeyStart.toISOString(),
      stages_completed: journey.stagesCompleted.map((s) => ({
        stage: s.stage,
        completed_at: s.completedAt.toISOString(),
        outcome: s.outcome,
      })),
      automation_state: e && {
        current_sequence: e.sequence,
        current_step: e.step,
        progress: automationProgress(e.step_index, e.total_steps),
        next_action: e.next_action,
        next_action_date: e.next_action_at === null ? null : iso(e.next_action_at),
      },
      touchpoints: row.touchpoints.map((t): TouchpointResponse => ({
        type: t.type as TouchpointResponse['type'],
        timestamp: iso(t.at),
        outcome: t.outcome,
        notes: decrypt(t.notes, { table: t.type === 'appointment' ? 'appointments' : 'communications', column: 'notes_enc', row: t.id }),
      })),
    },
  };
}
