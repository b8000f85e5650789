import { ApiProperty } from '@nestjs/swagger';
import { JourneyStage } from 'src/journey/domain/journey-stages';

export class CompletedStageResponse {
  @ApiProperty({ enum: Object.values(JourneyStage) })
  stage: string;
  /** When the patient left this stage (ISO 8601). */
  completed_at: string;
  /** What moved the patient on, e.g. `first visit completed`, `no visit for 90 days`. */
  outcome: string;
}

export class AutomationStateResponse {
  current_sequence: string;
  current_step: string;
  /** Share of the sequence's steps done, 0..100. */
  progress: number;
  @ApiProperty({ type: String, nullable: true })
  next_action: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  next_action_date: string | null;
}

export class TouchpointResponse {
  @ApiProperty({ enum: ['appointment', 'message', 'call', 'email'] })
  type: 'appointment' | 'message' | 'call' | 'email';
  timestamp: string;
  /** Appointment status (`completed`, `no_show`...) or the communication's outcome (`sent`, `responded`...). */
  outcome: string;
  @ApiProperty({ type: String, nullable: true })
  notes: string | null;
}

export class PatientJourneyResponse {
  patient_id: string;
  @ApiProperty({ enum: Object.values(JourneyStage) })
  current_stage: string;
  journey_start: string;
  @ApiProperty({ type: [CompletedStageResponse] })
  stages_completed: CompletedStageResponse[];
  @ApiProperty({ type: AutomationStateResponse, nullable: true })
  automation_state: AutomationStateResponse | null;
  /** Newest first, at most `touchpoint_limit`. */
  @ApiProperty({ type: [TouchpointResponse] })
  touchpoints: TouchpointResponse[];
}

export class JourneyResponse {
  journey: PatientJourneyResponse;
}
