import { ApiProperty } from '@nestjs/swagger';

/** A FHIR R4 Bundle of type `collection` (the resources themselves are described by the FHIR R4 specification). */
export class FhirBundleResponse {
  @ApiProperty({ enum: ['Bundle'] })
  resourceType: 'Bundle';
  @ApiProperty({ enum: ['collection'] })
  type: 'collection';
  /** When the bundle was assembled (ISO 8601). */
  timestamp: string;
  /** One entry per resource: `{ resource: { resourceType, id, ... } }`. */
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  entry: Record<string, unknown>[];
}

export class BulkExportRequestResponse {
  @ApiProperty({ type: [String], nullable: true, description: 'Resource types asked for (null: all).' })
  types: string[] | null;
  @ApiProperty({ type: String, nullable: true, description: 'Only resources changed at or after this instant.' })
  since: string | null;
  @ApiProperty({ type: [String], nullable: true, description: "Only these patients' resources (null: every patient)." })
  patient_ids: string[] | null;
}

/** The answer to a new bulk export (202) and to a status request while it runs (202). */
export class BulkExportStatusResponse {
  /** The export's id. */
  id: string;
  @ApiProperty({ enum: ['queued', 'running'] })
  status: 'queued' | 'running';
  /** From 0 to 1. */
  progress: number;
  /** Where to ask for its status and, once done, its manifest (also in `Content-Location`). */
  status_url: string;
  @ApiProperty({ type: BulkExportRequestResponse })
  request: BulkExportRequestResponse;
}

export class BulkExportOutputResponse {
  /** The FHIR resource type of every line of the file. */
  type: string;
  /** The NDJSON file (requires a bearer token with `privacy:manage` in the organization). */
  url: string;
  /** Resources (lines) in the file. */
  @ApiProperty({ type: 'integer' })
  count: number;
}

/** The FHIR Bulk Data manifest of a finished export. */
export class BulkExportManifestResponse {
  /** The instant the exported data is a snapshot of (ISO 8601). */
  transactionTime: string;
  /** The export's status URL (what was requested: `request_parameters`). */
  request: string;
  @ApiProperty({ enum: [true] })
  requiresAccessToken: true;
  @ApiProperty({ type: [BulkExportOutputResponse] })
  output: BulkExportOutputResponse[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Always empty: an export that fails ends as a problem, not a partial manifest.',
  })
  error: Record<string, unknown>[];
  @ApiProperty({ type: BulkExportRequestResponse })
  request_parameters: BulkExportRequestResponse;
}

/** The answer to DELETE: what was done. */
export class BulkExportDeletedResponse {
  /** The export's id. */
  id: string;
  /** Whether it was still queued or running and is now cancelled. */
  cancelled: boolean;
  /** Files deleted. */
  @ApiProperty({ type: 'integer' })
  files_deleted: number;
}
