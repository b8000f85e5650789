import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';

export const EXPORT_PURPOSES = ['analytics', 'research'] as const;
export const DATE_MODES = ['year', 'interval'] as const;
/** The CMS cell-size rule: cells of 1 to 10 are hidden. */
export const DEFAULT_K = 11;

/** Body of POST /analytics/{organizationId}/deidentified-exports. */
export class CreateDeidentifiedExportDto {
  /** The consent the patients must have given (default `analytics`); the others are left out. */
  @ApiPropertyOptional({ enum: EXPORT_PURPOSES, default: 'analytics' })
  @IsOptional()
  @IsIn(EXPORT_PURPOSES, { message: `purpose must be one of: ${EXPORT_PURPOSES.join(', ')}` })
  purpose?: (typeof EXPORT_PURPOSES)[number];

  /** Minimum patients per combination of quasi-identifiers, 2 to 1000 (default 11). */
  @ApiPropertyOptional({ type: 'integer', minimum: 2, maximum: 1000, default: DEFAULT_K })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'k must be an integer from 2 to 1000' })
  @Min(2, { message: 'k must be an integer from 2 to 1000' })
  @Max(1000, { message: 'k must be an integer from 2 to 1000' })
  k?: number;

  /** `year` (default): every date reduced to its year; `interval`: whole days since the patient's first visit. */
  @ApiPropertyOptional({ enum: DATE_MODES, default: 'year' })
  @IsOptional()
  @IsIn(DATE_MODES, { message: `dates must be one of: ${DATE_MODES.join(', ')}` })
  dates?: (typeof DATE_MODES)[number];
}

/** The path of one export: `.../{organizationId}/deidentified-exports/{jobId}`. */
export class ExportParams extends OrganizationParams {
  /** The export's id (its job run), as the creation answer gives it. */
  @IsUuidParam()
  jobId: string;
}

/** The path of one file of an export. */
export class ExportFileParams extends ExportParams {
  /** The file's name, as the export's `files` list it. */
  @Matches(/^[a-z]+\.ndjson$/, { message: "fileName must be one of the export's file names (patients.ndjson...)" })
  fileName: string;
}
