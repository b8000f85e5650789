import { ApiProperty } from '@nestjs/swagger';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';

/** `.../organizations/{organizationId}/audit-archives/{archiveId}`. */
export class AuditArchiveParams extends OrganizationParams {
  /** The archive's id, from the archive list. */
  @IsUuidParam()
  archiveId: string;
}

/** One archive of retired audit events (written by the retention sweep before it retired them). */
export class AuditArchiveResponse {
  /** The archive's id (download it at `.../audit-archives/{id}`). */
  @ApiProperty({ type: String, format: 'uuid' })
  id: string;
  /** The first and last sequence numbers of the organization's audit chain it holds. */
  @ApiProperty({ type: Number })
  first_sequence: number;
  @ApiProperty({ type: Number })
  last_sequence: number;
  /** How many events it holds (NDJSON lines). */
  @ApiProperty({ type: Number })
  event_count: number;
  /** The time of its first and last event (null for archives made before these were recorded). */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  period_start: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  period_end: string | null;
  /** The calendar months (UTC) it covers, `YYYY-MM` (empty when the period is not recorded). */
  @ApiProperty({ type: [String], example: ['2019-01', '2019-02'] })
  months: string[];
  /** The retention cutoff of the sweep that made it: every event in it happened before. */
  @ApiProperty({ type: String, format: 'date-time' })
  retired_before: string;
  /** When the archive was written. */
  @ApiProperty({ type: String, format: 'date-time' })
  created_at: string;
  /** Size of the NDJSON content in bytes (as downloaded; stored encrypted). */
  @ApiProperty({ type: Number })
  size_bytes: number;
}

export class AuditArchiveListResponse {
  /** Oldest first. */
  @ApiProperty({ type: [AuditArchiveResponse] })
  archives: AuditArchiveResponse[];
}

export const AUDIT_ARCHIVE_EXAMPLE: AuditArchiveResponse = {
  id: '0a4f8a7e-2f3c-4a55-9c1e-6f1b2d3c4e5f',
  first_sequence: 1,
  last_sequence: 18234,
  event_count: 18234,
  period_start: '2019-01-02T08:14:03.000Z',
  period_end: '2019-11-30T17:59:41.000Z',
  months: ['2019-01', '2019-02', '2019-03', '2019-04', '2019-05', '2019-06', '2019-07', '2019-08', '2019-09', '2019-10', '2019-11'],
  retired_before: '2019-12-01T00:00:00.000Z',
  created_at: '2025-12-01T02:00:05.000Z',
  size_bytes: 9_437_184,
};

export const AUDIT_ARCHIVE_LIST_EXAMPLE: AuditArchiveListResponse = { archives: [AUDIT_ARCHIVE_EXAMPLE] };
