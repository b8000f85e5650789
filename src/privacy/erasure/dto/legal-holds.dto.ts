import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, Equals, IsArray, IsISO8601, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';

/** Most patients one hold may name (hold the whole organization with `all` beyond that). */
export const MAX_HOLD_PATIENT_IDS = 10_000;

/** A hold on some patients (`patient_ids`) or on all of them (`all: true`), one or the other. */
export class CreateLegalHoldBody {
  /** The patients held. */
  @IsOptional()
  @IsArray({ message: 'patient_ids must be a list of patient ids' })
  @ArrayMinSize(1, { message: 'patient_ids must name at least one patient' })
  @ArrayMaxSize(MAX_HOLD_PATIENT_IDS, { message: `patient_ids may name at most ${MAX_HOLD_PATIENT_IDS} patients` })
  @IsUUID('all', { each: true, message: 'each of patient_ids must be a UUID' })
  @ApiProperty({ type: [String], format: 'uuid', required: false })
  patient_ids?: string[];

  /** `true`: every patient of the organization, present and future, is held. */
  @IsOptional()
  @Equals(true, { message: 'all must be true when given (name patients with patient_ids instead)' })
  @ApiProperty({ type: Boolean, required: false, enum: [true] })
  all?: true;

  /** Why (the matter, the case number); kept encrypted. */
  @IsString({ message: 'reason must be a string' })
  @Length(1, 1000, { message: 'reason must be 1 to 1000 characters' })
  reason: string;

  /** When the hold ends by itself (ISO 8601 with a time zone, in the future); default: until released. */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  @ApiProperty({ type: String, format: 'date-time', required: false })
  until?: string;
}

/** `.../legal-holds/{holdId}`. */
export class LegalHoldParams extends OrganizationParams {
  /** The hold's id. */
  @IsUuidParam()
  holdId: string;
}
