import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { IsUuidParam } from 'src/common/validation/is-uuid-param.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { EXPORT_RESOURCE_TYPES } from 'src/privacy/export/domain/fhir-mapping';

export const PATIENT_EXPORT_FORMATS = ['fhir', 'json'] as const;

export class PatientExportQuery {
  /** `fhir` (default): a FHIR R4 collection Bundle (`application/fhir+json`); `json`: the project's own snake_case shape. */
  @IsOptional()
  @IsIn(PATIENT_EXPORT_FORMATS, { message: `format must be one of: ${PATIENT_EXPORT_FORMATS.join(', ')}` })
  @ApiProperty({ enum: PATIENT_EXPORT_FORMATS, required: false, default: 'fhir' })
  format?: (typeof PATIENT_EXPORT_FORMATS)[number];
}

/** Most patient ids one bulk export request may name (ask for the whole organization beyond that). */
export const MAX_EXPORT_PATIENT_IDS = 10_000;

export class CreateBulkExportBody {
  /** Resource types to export (default: every type). */
  @IsOptional()
  @IsArray({ message: 'types must be a list of resource types' })
  @IsIn(EXPORT_RESOURCE_TYPES, { each: true, message: `each of types must be one of: ${EXPORT_RESOURCE_TYPES.join(', ')}` })
  @ApiProperty({ enum: EXPORT_RESOURCE_TYPES, isArray: true, required: false })
  types?: string[];

  /** Only resources changed at or after this instant (ISO 8601 with a time zone). */
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time' })
  @ApiProperty({ type: String, format: 'date-time', required: false })
  since?: string;

  /** Only these patients' resources (default: every patient of the organization). */
  @IsOptional()
  @IsArray({ message: 'patient_ids must be a list of patient ids' })
  @ArrayMaxSize(MAX_EXPORT_PATIENT_IDS, { message: `patient_ids may name at most ${MAX_EXPORT_PATIENT_IDS} patients` })
  @IsUUID('all', { each: true, message: 'each of patient_ids must be a UUID' })
  @ApiProperty({ type: [String], format: 'uuid', required: false })
  patient_ids?: string[];
}

/** `.../exports/{organizationId}/{jobId}`. */
export class ExportParams extends OrganizationParams {
  /** The export's id (its job's id), from the `Content-Location` of its creation. */
  @IsUuidParam()
  jobId: string;
}

/** `.../exports/{organizationId}/{jobId}/files/{fileName}`. */
export class ExportFileParams extends ExportParams {
  /** The file's name in the manifest's `url`: `<ResourceType>.ndjson`. */
  @IsIn(EXPORT_RESOURCE_TYPES.map((t) => `${t}.ndjson`), {
    message: 'fileName must be <ResourceType>.ndjson for an exportable resource type',
  })
  fileName: string;
}
