import type { ConsentsResponse } from 'src/consent/dto/consents.response';

export const CONSENTS_EXAMPLE: ConsentsResponse = {
  patient_id: '0b9a4f1e-4c1d-4f0e-9a51-2f0c8d6b1a11',
  effective: [
    {
      purpose: 'marketing',
      channel: 'email',
      granted: false,
      state: 'withdrawn',
      decision_id: '5d0c1f3a-7a9e-4d6b-8f3c-0a1b2c3d4e5f',
      expires_at: null,
    },
    {
      purpose: 'analytics',
      channel: null,
      granted: true,
      state: 'granted',
      decision_id: '8e2d7c6b-1f0a-4b3c-9d8e-7f6a5b4c3d2e',
      expires_at: '2027-11-20T09:30:00.000Z',
    },
  ],
  history: [
    {
      id: '5d0c1f3a-7a9e-4d6b-8f3c-0a1b2c3d4e5f',
      purpose: 'marketing',
      channel: null,
      decision: 'withdrawn',
      recorded_at: '2026-11-24T10:15:00.000Z',
      source: 'front_desk',
      recorded_by: 'user:3c9b2a10-5d4e-4f6a-8b7c-9d0e1f2a3b4c',
      expires_at: null,
      evidence: 'Asked at the desk to stop receiving offers.',
      record_source: 'clinic-ehr',
      external_id: 'consent-api:9f1e2d3c-4b5a-4697-8877-665544332211',
    },
    {
      id: '8e2d7c6b-1f0a-4b3c-9d8e-7f6a5b4c3d2e',
      purpose: 'analytics',
      channel: null,
      decision: 'granted',
      recorded_at: '2026-11-20T09:30:00.000Z',
      source: 'web_form',
      recorded_by: 'api_key:7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
      expires_at: '2027-11-20T09:30:00.000Z',
      evidence: null,
      record_source: 'clinic-ehr',
      external_id: 'consent-2026-0042',
    },
  ],
};
