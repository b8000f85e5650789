import { EXPORT_RESOURCE_TYPES } from 'src/privacy/export/domain/fhir-mapping';

/** What a bulk export was asked for, as its job's payload keeps it (and the manifest's `request` echoes it). */
export interface BulkExportRequest {
  /** Resource types to export (null: every type). */
  types: string[] | null;
  /** Only resources changed at or after this instant (ISO 8601; null: all). */
  since: string | null;
  /** Only these patients' resources (null: every patient's). */
  patient_ids: string[] | null;
}

/** The job payload back as a request; a payload that is not one throws (the job then fails without a retry). */
export function parseBulkExportRequest(payload: Record<string, unknown>): BulkExportRequest {
  const types = payload.types ?? null;
  const since = payload.since ?? null;
  const patientIds = payload.patient_ids ?? null;
  if (types !== null && (!Array.isArray(types) || types.some((t) => typeof t !== 'string' || !EXPORT_RESOURCE_TYPES.includes(t)))) {
    throw new TypeError('bulk export payload: types must be a list of exportable resource types');
  }
  if (since !== null && (typeof since !== 'string' || Number.isNaN(Date.parse(since))))
    throw new TypeError('bulk export payload: since must be an ISO 8601 time');
  if (patientIds !== null && (!Array.isArray(patientIds) || patientIds.some((p) => typeof p !== 'string'))) {
    throw new TypeError('bulk export payload: patient_ids must be a list of ids');
  }
  return { types: types as string[] | null, since: since as string | null, patient_ids: patientIds as string[] | null };
}

/** One NDJSON file of a finished export, as the job's result keeps it. */
export interface BulkExportOutput {
  type: string;
  file_id: string;
  name: string;
  count: number;
}

/** A finished export's job result. */
export interface BulkExportResult {
  transaction_time: string;
  output: BulkExportOutput[];
}
