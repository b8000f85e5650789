import type { FhirTransactionResponse, FhirImportAccepted, FhirImportStatus } from 'src/fhir-import/dto/fhir-import.dto';

// A transaction of a Patient, an Encounter and an Observation (skipped), sent the first time.
export const FHIR_BUNDLE_EXAMPLE: FhirTransactionResponse = {
  resourceType: 'Bundle',
  type: 'transaction-response',
  entry: [
    { response: { status: '201 Created', location: 'Patient/pat-1001' } },
    { response: { status: '201 Created', location: 'Encounter/enc-1' } },
    {
      response: {
        status: '200 OK',
        location: 'Observation/obs-1',
        outcome: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'informational', details: { text: 'Observation is not imported' } }],
        },
      },
    },
  ],
};

export const FHIR_IMPORT_ACCEPTED_EXAMPLE: FhirImportAccepted = {
  import_id: '0b6f5c1e-3a2d-4c8e-9f7a-1d2e3c4b5a69',
  status_url: '/api/v1/fhir/7c9e6679-7425-40de-944b-e07fc1f90ae7/import/0b6f5c1e-3a2d-4c8e-9f7a-1d2e3c4b5a69',
};

export const FHIR_IMPORT_STATUS_EXAMPLE: FhirImportStatus = {
  import_id: '0b6f5c1e-3a2d-4c8e-9f7a-1d2e3c4b5a69',
  status: 'succeeded',
  progress: 1,
  result: {
    resources: 3,
    counts: { Patient: { created: 1 }, Encounter: { created: 1 }, Observation: { skipped: 1 } },
    patients_rescored: 1,
    patients_left_stale: 0,
    rejected_lines: 0,
    files: [{ name: 'Patient.000.ndjson', bytes: 5120 }],
  },
  outcomes_url: '/api/v1/fhir/7c9e6679-7425-40de-944b-e07fc1f90ae7/import/0b6f5c1e-3a2d-4c8e-9f7a-1d2e3c4b5a69/outcomes',
  error: null,
};
