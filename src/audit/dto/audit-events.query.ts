import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_ACTIONS, AuditAction } from 'src/audit/trail/audit-action';

export class AuditEventsQuery {
  /** Only events whose response carried this patient ("who saw this patient's record"). */
  @IsOptional()
  @IsUUID('all')
  patient_id?: string;

  /** Only events of this user or API key. */
  @IsOptional()
  @IsUUID('all')
  actor_id?: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction', required: false })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  /** Events at or after this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** Events before this time (ISO 8601, exclusive). */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  /** Page size, 1 to 1000 (default 100). */
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1000, default: 100, required: false })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** The `next_cursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor value returned by this endpoint' })
  cursor?: string;
}
