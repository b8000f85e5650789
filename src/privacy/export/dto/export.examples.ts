import type {
  BulkExportDeletedResponse,
  BulkExportManifestResponse,
  BulkExportStatusResponse,
  FhirBundleResponse,
} from 'src/privacy/export/dto/export.response';

const ORG = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const JOB = '0b5e8f0e-7d5c-4f7e-9f3a-2c1d0e9b8a7f';
const PATIENT = '3fa85f64-5717-4562-b3fc-2c963f66afa6';

export const FHIR_BUNDLE_EXAMPLE: FhirBundleResponse = {
  resourceType: 'Bundle',
  type: 'collection',
  timestamp: '2026-11-24T12:00:00.000Z',
  entry: [
    { resource: { resourceType: 'Patient', id: PATIENT, active: true, name: [{ text: 'Jane Doe' }], birthDate: '1980-05-17' } },
    {
      resource: {
        resourceType: 'Appointment',
        id: '9c1b7f3a-1e2d-4c5b-8a9f-0e1d2c3b4a59',
        status: 'fulfilled',
        start: '2026-10-01T09:00:00.000Z',
        end: '2026-10-01T09:00:00.000Z',
        participant: [{ actor: { reference: `Patient/${PATIENT}` }, status: 'accepted' }],
      },
    },
  ],
};

export const BULK_EXPORT_STATUS_EXAMPLE: BulkExportStatusResponse = {
  id: JOB,
  status: 'running',
  progress: 0.42,
  status_url: `/api/v1/exports/${ORG}/${JOB}`,
  request: { types: ['Patient', 'Appointment'], since: null, patient_ids: null },
};

export const BULK_EXPORT_MANIFEST_EXAMPLE: BulkExportManifestResponse = {
  transactionTime: '2026-11-24T12:00:00.000Z',
  request: `https://api.example.com/api/v1/exports/${ORG}/${JOB}`,
  requiresAccessToken: true,
  output: [
    { type: 'Patient', url: `https://api.example.com/api/v1/exports/${ORG}/${JOB}/files/Patient.ndjson`, count: 1200 },
    { type: 'Appointment', url: `https://api.example.com/api/v1/exports/${ORG}/${JOB}/files/Appointment.ndjson`, count: 9400 },
  ],
  error: [],
  request_parameters: { types: ['Patient', 'Appointment'], since: null, patient_ids: null },
};

export const BULK_EXPORT_DELETED_EXAMPLE: BulkExportDeletedResponse = { id: JOB, cancelled: false, files_deleted: 2 };
