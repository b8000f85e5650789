import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, Max, Min, ValidateIf } from 'class-validator';
import { MAX_RETENTION_YEARS, MIN_AUDIT_YEARS } from 'src/privacy/retention/domain/retention-policy';

/** The whole policy (PUT replaces it). */
export class RetentionPolicyBody {
  /** Patients with no activity for longer than this many years are erased by the nightly sweep; `null` keeps them. */
  @ValidateIf((_o, v) => v !== null)
  @IsNumber(
    { allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 },
    { message: 'inactive_patient_years must be a number of years or null' },
  )
  @Min(0.25, { message: 'inactive_patient_years must be at least 0.25 (or null to keep patients)' })
  @Max(MAX_RETENTION_YEARS, { message: `inactive_patient_years must be at most ${MAX_RETENTION_YEARS}` })
  @ApiProperty({ type: Number, nullable: true, example: 7 })
  inactive_patient_years: number | null;

  /** Audit events are kept this many years (at least 6, HIPAA's documentation retention), then archived and retired. */
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 }, { message: 'audit_years must be a number of years' })
  @Min(MIN_AUDIT_YEARS, { message: `audit_years must be at least ${MIN_AUDIT_YEARS} (HIPAA documentation retention)` })
  @Max(MAX_RETENTION_YEARS, { message: `audit_years must be at most ${MAX_RETENTION_YEARS}` })
  @ApiProperty({ type: Number, minimum: MIN_AUDIT_YEARS, example: 6 })
  audit_years: number;
}

export class RetentionPolicyResponse {
  @ApiProperty({ type: Number, nullable: true })
  inactive_patient_years: number | null;
  @ApiProperty({ type: Number })
  audit_years: number;
  /** When the policy was last set (null: the defaults, never set). */
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at: string | null;
}

export const RETENTION_POLICY_EXAMPLE: RetentionPolicyResponse = {
  inactive_patient_years: 7,
  audit_years: 6,
  updated_at: '2026-11-24T12:00:00.000Z',
};
