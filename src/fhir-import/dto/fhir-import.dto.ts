import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';

export class FhirSourceQuery {
  /** The source the records are keyed by (default: the Bundle's `meta.source`, else `fhir`). */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, { message: 'source must be 1 to 64 letters, digits or ._:/-' })
  source?: string;
}

export class FhirImportParams extends OrganizationParams {
  /** The import's id (its job run), from the `Content-Location` of the 202. */
  @IsUuidParam()
  importId: string;
}

class FhirTransactionEntryResponse {
  /** `201 Created`, `200 OK` (updated, unchanged or skipped) or `400 Bad Request`. */
  status: string;
  /** `Type/id` of the resource. */
  location?: string;
  /** Why the entry was rejected or skipped (an OperationOutcome naming the element). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  outcome?: Record<string, unknown>;
}

class FhirTransactionResponseEntry {
  @ApiProperty({ type: FhirTransactionEntryResponse })
  response: FhirTransactionEntryResponse;
}

/** A FHIR `transaction-response` or `batch-response` Bundle: one entry per input entry, in order. */
export class FhirTransactionResponse {
  @ApiProperty({ enum: ['Bundle'] })
  resourceType: 'Bundle';
  @ApiProperty({ enum: ['transaction-response', 'batch-response'] })
  type: 'transaction-response' | 'batch-response';
  @ApiProperty({ type: [FhirTransactionResponseEntry] })
  entry: FhirTransactionResponseEntry[];
}

/** The import was accepted: poll `status_url` (also in `Content-Location`). */
export class FhirImportAccepted {
  @ApiProperty({ format: 'uuid' })
  import_id: string;
  status_url: string;
}

/** An import's state; its result once done. */
export class FhirImportStatus {
  @ApiProperty({ format: 'uuid' })
  import_id: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] })
  status: string;
  /** 0 to 1. */
  @ApiProperty({ type: Number, nullable: true })
  progress: number | null;
  /**
   * Once succeeded: resources read, counts per resource type and outcome, patients rescored, rejected lines, and the
   * files read (`files`: name and bytes; a multipart part's filename, else `upload-1.ndjson`).
   */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  result: Record<string, unknown> | null;
  /** The NDJSON of OperationOutcomes, one per rejected line (once succeeded). */
  @ApiPropertyOptional({ nullable: true })
  outcomes_url: string | null;
  @ApiPropertyOptional({ nullable: true })
  error: string | null;
}
