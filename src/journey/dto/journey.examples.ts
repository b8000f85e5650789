import type { JourneyResponse } from 'src/journey/dto/journey.response';

// The documented answer's example (openapi.json), validated against the front end's contract by
// test/foundation/openapi-examples.int-spec.ts. An invented patient.
export const JOURNEY_EXAMPLE: JourneyResponse = {
  journey: {
    patient_id: '5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41',
    current_stage: 'lapsed',
    journey_start: '2024-03-11T09:00:00.000Z',
    stages_completed: [
      { stage: 'new_lead', completed_at: '2024-03-18T10:00:00.000Z', outcome: 'first visit completed' },
      { stage: 'first_visit', completed_at: '2024-04-01T10:00:00.000Z', outcome: 'second visit completed' },
      { stage: 'active_care', completed_at: '2026-10-31T14:30:00.000Z', outcome: 'no visit for 90 days' },
    ],
    automation_state: {
      current_sequence: 'reactivation',
      current_step: 'second_reminder',
      progress: 50,
      next_action: 'send_sms',
      next_action_date: '2026-11-27T09:00:00.000Z',
    },
    touchpoints: [
      { type: 'message', timestamp: '2026-11-20T09:00:00.000Z', outcome: 'sent', notes: null },
      { type: 'appointment', timestamp: '2026-08-02T14:30:00.000Z', outcome: 'completed', notes: null },
    ],
  },
};
