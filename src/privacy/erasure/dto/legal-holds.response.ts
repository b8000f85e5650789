import { ApiProperty } from '@nestjs/swagger';

export class LegalHoldResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;
  /** Whether the hold covers every patient of the organization. */
  all: boolean;
  /** The patients held (empty when `all`). */
  @ApiProperty({ type: [String], format: 'uuid' })
  patient_ids: string[];
  reason: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  until: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
  /** Who placed it (`user:<id>` or `api_key:<id>`). */
  created_by: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  released_at: string | null;
  @ApiProperty({ type: String, nullable: true })
  released_by: string | null;
  /** Neither released nor past `until`: erasure of a patient it covers answers 409 and the retention sweep skips them. */
  in_force: boolean;
}

export class LegalHoldsResponse {
  /** Newest first, released ones included. */
  @ApiProperty({ type: [LegalHoldResponse] })
  holds: LegalHoldResponse[];
}
