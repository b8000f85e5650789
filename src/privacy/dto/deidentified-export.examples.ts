import { deidentificationReport } from 'src/privacy/domain/export-report';
import type { DeidentificationReportResponse, DeidentifiedExportResponse } from 'src/privacy/dto/deidentified-export.response';

const ID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const ORG = '0d4e9c1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a';
const url = (rest: string): string => `/api/v1/analytics/${ORG}/deidentified-exports/${ID}${rest}`;

export const DEIDENTIFIED_EXPORT_QUEUED_EXAMPLE: DeidentifiedExportResponse = {
  id: ID,
  status: 'queued',
  purpose: 'analytics',
  k: 11,
  dates: 'year',
  queued_at: '2026-11-24T12:00:00.000Z',
  finished_at: null,
  progress: null,
  error: null,
  status_url: url(''),
};

export const DEIDENTIFIED_EXPORT_EXAMPLE: DeidentifiedExportResponse = {
  ...DEIDENTIFIED_EXPORT_QUEUED_EXAMPLE,
  status: 'succeeded',
  finished_at: '2026-11-24T12:00:04.000Z',
  progress: 1,
  manifest: {
    files: [
      { name: 'patients.ndjson', rows: 1620, bytes: 141000, url: url('/files/patients.ndjson') },
      { name: 'visits.ndjson', rows: 20100, bytes: 1320000, url: url('/files/visits.ndjson') },
      { name: 'payments.ndjson', rows: 17800, bytes: 1410000, url: url('/files/payments.ndjson') },
      { name: 'scores.ndjson', rows: 1620, bytes: 245000, url: url('/files/scores.ndjson') },
    ],
    rows: { patients: 1620, visits: 20100, payments: 17800, scores: 1620 },
    generalized_rows: 1480,
    suppressed_rows: 52,
    expires_at: '2026-11-25T12:00:00.000Z',
  },
};

export const DEIDENTIFICATION_REPORT_EXAMPLE: DeidentificationReportResponse = deidentificationReport(
  {
    considered: 1672,
    released: 1620,
    suppressed: 52,
    releasedPerLevel: [0, 140, 0, 1320, 160, 0],
    removed: { name: 1672, email: 1672, phone: 1650, street: 1672, city: 1672, zip: 1672, date_of_birth: 1672, record_number: 1672 },
    generalized: { zip_to_zip3: 1668, zip_to_000: 4, birth_date_to_band: 1672, age_90_plus: 3, state_not_a_code: 0, widened_for_k: 1620 },
  },
  {
    purpose: 'analytics',
    k: 11,
    dates: 'year',
    patientsInOrganization: 1972,
    withoutConsent: 300,
    rows: { patients: 1620, visits: 20100, payments: 17800, scores: 1620 },
  },
);
