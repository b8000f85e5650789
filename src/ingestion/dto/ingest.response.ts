import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class IngestRecordErrorDto {
  /** The field at fault (dotted for nested fields, e.g. `address.zip`; empty when the record itself is not an object). */
  field: string;
  /** What was wrong and what is expected. */
  message: string;
}

export class IngestRecordResult {
  /** Position of the record in `records` (0-based). */
  @ApiProperty({ type: 'integer' })
  index: number;
  /** As sent (null when missing or not a string). */
  @ApiProperty({ type: String, nullable: true })
  record_type: string | null;
  @ApiProperty({ type: String, nullable: true })
  source: string | null;
  @ApiProperty({ type: String, nullable: true })
  external_id: string | null;
  /** `created`, `updated`, `unchanged` (already stored as sent: nothing written) or `rejected` (nothing written). */
  @ApiProperty({ enum: ['created', 'updated', 'unchanged', 'rejected'] })
  status: 'created' | 'updated' | 'unchanged' | 'rejected';
  /** Id of the stored record (not for rejected ones). */
  @ApiPropertyOptional({ format: 'uuid' })
  id?: string;
  /**
   * Set when a rejection is not about the record's content: `erased`, the record is or names a patient erased at the
   * organization's request (an erasure tombstone matches it), and is not stored again.
   */
  @ApiPropertyOptional({ enum: ['erased'] })
  reason?: 'erased';
  /** Why the record was rejected: one entry per field at fault. */
  @ApiPropertyOptional({ type: [IngestRecordErrorDto] })
  errors?: IngestRecordErrorDto[];
}

export class IngestSummary {
  @ApiProperty({ type: 'integer' })
  received: number;
  @ApiProperty({ type: 'integer' })
  created: number;
  @ApiProperty({ type: 'integer' })
  updated: number;
  @ApiProperty({ type: 'integer' })
  unchanged: number;
  @ApiProperty({ type: 'integer' })
  rejected: number;
}

export class IngestResponse {
  /** One result per record, in the order sent. */
  @ApiProperty({ type: [IngestRecordResult] })
  results: IngestRecordResult[];
  @ApiProperty({ type: IngestSummary })
  summary: IngestSummary;
}
