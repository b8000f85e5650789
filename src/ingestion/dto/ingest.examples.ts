import type { IngestResponse } from 'src/ingestion/dto/ingest.response';

// The documented answer's example (openapi.json): the answer to the request body's example, sent a second time
// with the appointment changed and a payment without its amount.
export const INGEST_EXAMPLE: IngestResponse = {
  results: [
    {
      index: 0,
      record_type: 'patient',
      source: 'clinic-ehr',
      external_id: 'pat-1001',
      status: 'unchanged',
      id: '5d3a8f0e-2b7c-4e8a-9c1d-3f6b2a7e9d41',
    },
    {
      index: 1,
      record_type: 'appointment',
      source: 'clinic-ehr',
      external_id: 'apt-20261120-1',
      status: 'updated',
      id: 'e4b7a2c9-1d3f-4e6a-8b5c-9f0d2a7e1c38',
    },
    {
      index: 2,
      record_type: 'payment',
      source: 'clinic-ehr',
      external_id: 'pay-20261120-1',
      status: 'rejected',
      errors: [{ field: 'amount', message: 'is required' }],
    },
  ],
  summary: { received: 3, created: 0, updated: 1, unchanged: 1, rejected: 1 },
};
