import type { OpportunitiesResponse } from 'src/opportunities/dto/opportunities.response';

// The documented answer's example (openapi.json), validated against the front end's contract by
// test/foundation/openapi-examples.int-spec.ts. Invented patients.
export const OPPORTUNITIES_EXAMPLE: OpportunitiesResponse = {
  opportunities: [
    {
      patient_id: '5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41',
      patient_name: 'Maria Silva',
      opportunity_type: 'high_value_risk',
      priority: 'high',
      last_contact: '2026-11-20T09:00:00.000Z',
      suggested_action: 'Call to book the next physiotherapy session; offer the loyalty discount',
      estimated_value: 1280,
      success_probability: 0.42,
    },
    {
      patient_id: '7a61c0d4-3e2b-4f9a-b8d7-1c5e6f2a9b03',
      patient_name: 'Ana Costa',
      opportunity_type: 'overdue_appointment',
      priority: 'medium',
      last_contact: null,
      suggested_action: 'Send an SMS reminder that the check-up is due',
      estimated_value: 320,
      success_probability: 0.65,
    },
  ],
  total_opportunities: 148,
  potential_revenue: 96540.5,
};
