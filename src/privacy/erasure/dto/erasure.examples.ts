import type { ErasureReceiptResponse } from 'src/privacy/erasure/dto/erasure.response';
import type { LegalHoldResponse, LegalHoldsResponse } from 'src/privacy/erasure/dto/legal-holds.response';

export const ERASURE_RECEIPT_EXAMPLE: ErasureReceiptResponse = {
  erasure_id: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b',
  patient_id: '0b7e4d2a-3c1f-4e5d-9a8b-7c6d5e4f3a2b',
  basis: 'patient_request',
  erased_at: '2026-11-24T12:00:00.000Z',
  records_deleted: {
    appointments: 7,
    automation_enrollments: 1,
    communications: 12,
    consent_decisions: 4,
    engagement_patient_days: 1,
    fhir_resources: 3,
    journey_events: 5,
    patient_features: 1,
    patient_metrics: 1,
    patients: 1,
    payments: 9,
    reengagement_opportunities: 1,
    referrals: 0,
    risk_score_history: 9,
    stored_files: 0,
    survey_responses: 2,
    treatment_plans: 1,
  },
  records_unlinked: { patients_referred_by: 0, referrals: 1 },
};

export const LEGAL_HOLD_EXAMPLE: LegalHoldResponse = {
  id: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
  all: false,
  patient_ids: ['0b7e4d2a-3c1f-4e5d-9a8b-7c6d5e4f3a2b'],
  reason: 'Litigation hold, case 2026-CV-0142',
  until: '2027-12-31T00:00:00.000Z',
  created_at: '2026-11-24T12:00:00.000Z',
  created_by: 'user:2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f',
  released_at: null,
  released_by: null,
  in_force: true,
};

export const LEGAL_HOLDS_EXAMPLE: LegalHoldsResponse = { holds: [LEGAL_HOLD_EXAMPLE] };
