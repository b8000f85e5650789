import type { AuditEventsResponse, AuditVerifyResponse } from 'src/audit/dto/audit-events.response';
import { AuditAction } from 'src/audit/trail/audit-action';

// Examples of the documented answers (openapi.json).
export const AUDIT_EVENTS_EXAMPLE: AuditEventsResponse = {
  events: [
    {
      id: '3f0c6a1e-9b2d-4c7e-8a5f-1d2e3c4b5a69',
      sequence: 4181,
      occurred_at: '2026-11-24T11:58:02.114Z',
      actor_type: 'user',
      actor_id: '9c4b2e71-5a3d-4f8e-b6c0-2d1e7f3a8b45',
      actor_role: 'front_desk',
      action: AuditAction.Read,
      resource: 'patient',
      method: 'GET',
      route: '/api/v1/patients/:organizationId/profile/:patientId',
      patient_ids: ['5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41'],
      query: {},
      outcome: 'success',
      status_code: 200,
      request_id: 'c1f5e2d8-7a4b-4c3e-9f1a-6b2d8e0c4a17',
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0',
      hash: '8d1f6c0b2a9e4d7f3c5b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c',
      prev_hash: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
    },
  ],
  next_cursor: 'czQxODE',
};

// A broken chain: an intact one answers `{ "valid": true, "events_checked": 4181, "first_broken": null }`.
export const AUDIT_VERIFY_EXAMPLE: AuditVerifyResponse = {
  valid: false,
  events_checked: 4181,
  first_broken: { id: '3f0c6a1e-9b2d-4c7e-8a5f-1d2e3c4b5a69', occurred_at: '2026-11-24T11:58:02.114Z', sequence: 4181, reason: 'content_altered' },
};
