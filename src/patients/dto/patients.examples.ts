import type { ProfileResponse } from 'src/patients/dto/profile.response';
import type { ProfilesResponse } from 'src/patients/dto/profiles.response';

// Examples of the documented answers (openapi.json). Invented people; test/foundation/openapi-examples.int-spec.ts
// validates each against the front end's contract.

export const PROFILES_EXAMPLE: ProfilesResponse = {
  patients: [
    {
      id: '5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41',
      name: 'Maria Silva',
      phone: '+1 555 0100',
      email: 'maria.silva@example.com',
      ltv: 1840.5,
      total_sessions: 12,
      last_appointment: '2026-08-02T14:30:00.000Z',
      next_appointment: null,
      status: 'at_risk',
      risk_score: 72.4,
      engagement_score: 38.1,
      created_at: '2024-03-11T09:00:00.000Z',
      updated_at: '2026-11-24T02:00:00.000Z',
    },
    {
      id: '0b9e47c2-6f1d-4a3b-8e5c-7d2a1f9b6c30',
      name: 'John Okafor',
      phone: null,
      email: 'j.okafor@example.com',
      ltv: 960,
      total_sessions: 8,
      last_appointment: '2026-11-18T10:00:00.000Z',
      next_appointment: '2026-12-16T10:00:00.000Z',
      status: 'active',
      risk_score: 12.5,
      engagement_score: 81.0,
      created_at: '2025-01-20T16:45:00.000Z',
      updated_at: '2026-11-24T02:00:00.000Z',
    },
  ],
  total_count: 2000,
  has_more: true,
  summary: { total_patients: 2000, active_patients: 1212, dormant_patients: 431, at_risk_patients: 357 },
  next_cursor: 'eyJrIjo3Mi40LCJpZCI6IjVkM2E4ZjBlIn0',
};

export const PROFILE_EXAMPLE: ProfileResponse = {
  patient: {
    id: '5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41',
    name: 'Maria Silva',
    phone: '+1 555 0100',
    email: 'maria.silva@example.com',
    date_of_birth: '1984-02-29',
    address: { street: '12 Harbour Road', city: 'Springfield', state: 'IL', zip: '62701' },
    medical_info: { conditions: ['lower back pain'], allergies: [], medications: ['ibuprofen'] },
    engagement_metrics: {
      ltv: 1840.5,
      total_sessions: 12,
      avg_session_value: 153.38,
      last_appointment: '2026-08-02T14:30:00.000Z',
      next_appointment: null,
      appointment_history: [
        { date: '2026-08-02T14:30:00.000Z', type: 'physiotherapy', value: 160, notes: null, status: 'completed' },
        { date: '2026-07-19T14:30:00.000Z', type: 'physiotherapy', value: 160, notes: null, status: 'no_show' },
      ],
    },
    risk_assessment: {
      risk_score: 72.4,
      risk_level: 'high',
      risk_factors: ['No visit for 114 days, against a usual rhythm of 14 days', 'Missed 1 of the last 3 appointments'],
      last_assessed: '2026-11-24T02:00:00.000Z',
    },
    communication_preferences: { preferred_channel: 'sms', marketing_consent: true, appointment_reminders: true },
  },
};
