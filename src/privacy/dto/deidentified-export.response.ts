import { ApiProperty } from '@nestjs/swagger';

export class ExportFileResponse {
  /** `patients.ndjson`, `visits.ndjson`, `payments.ndjson`, `scores.ndjson`. */
  name: string;
  /** Rows (lines) in the file. */
  @ApiProperty({ type: 'integer' })
  rows: number;
  @ApiProperty({ type: 'integer' })
  bytes: number;
  /** Where to download it (NDJSON). */
  url: string;
}

export class ExportRowsResponse {
  @ApiProperty({ type: 'integer' }) patients: number;
  @ApiProperty({ type: 'integer' }) visits: number;
  @ApiProperty({ type: 'integer' }) payments: number;
  @ApiProperty({ type: 'integer' }) scores: number;
}

export class ExportManifestResponse {
  @ApiProperty({ type: [ExportFileResponse] })
  files: ExportFileResponse[];
  @ApiProperty({ type: ExportRowsResponse })
  rows: ExportRowsResponse;
  /** Patients whose quasi-identifiers were generalized beyond the first level to reach k. */
  @ApiProperty({ type: 'integer' })
  generalized_rows: number;
  /** Patients left out because their group stayed smaller than k. */
  @ApiProperty({ type: 'integer' })
  suppressed_rows: number;
  /** When the files are deleted (ISO 8601). */
  expires_at: string;
}

export class DeidentifiedExportResponse {
  /** The export's id (its job run). */
  id: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'] })
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  @ApiProperty({ enum: ['analytics', 'research'] })
  purpose: 'analytics' | 'research';
  @ApiProperty({ type: 'integer' })
  k: number;
  @ApiProperty({ enum: ['year', 'interval'] })
  dates: 'year' | 'interval';
  queued_at: string;
  @ApiProperty({ type: String, nullable: true })
  finished_at: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'From 0 to 1 while it runs.' })
  progress: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why it failed.' })
  error: string | null;
  /** Where to ask for the status. */
  status_url: string;
  @ApiProperty({
    type: ExportManifestResponse,
    required: false,
    description: 'The files and counts, once it succeeded (absent before, and after the files expired).',
  })
  manifest?: ExportManifestResponse;
}

export class ReportCountResponse {
  field: string;
  @ApiProperty({ type: 'integer' }) source_rows: number;
}

export class ReportGeneralizedResponse {
  field: string;
  to: string;
  @ApiProperty({ type: 'integer' }) rows: number;
}

export class ReportLevelResponse {
  @ApiProperty({ type: 'integer' }) level: number;
  quasi_identifiers: string;
  @ApiProperty({ type: 'integer' }) rows: number;
}

export class ReportSuppressionResponse {
  @ApiProperty({ type: [ReportLevelResponse] }) levels: ReportLevelResponse[];
  @ApiProperty({ type: 'integer' }) suppressed_rows: number;
  @ApiProperty({ type: 'integer' }) generalized_rows: number;
}

export class ReportPatientsResponse {
  @ApiProperty({ type: 'integer' }) in_organization: number;
  @ApiProperty({ type: 'integer' }) without_consent: number;
  @ApiProperty({ type: 'integer' }) considered: number;
  @ApiProperty({ type: 'integer' }) released: number;
  @ApiProperty({ type: 'integer' }) suppressed: number;
}

export class ReportRuleResponse {
  rule: string;
  source: string;
}

export class DeidentificationReportResponse {
  standard: string;
  purpose: string;
  @ApiProperty({ type: 'integer' }) k: number;
  @ApiProperty({ enum: ['year', 'interval'] }) dates: 'year' | 'interval';
  quasi_identifiers: string[];
  @ApiProperty({ type: ReportPatientsResponse }) patients: ReportPatientsResponse;
  @ApiProperty({ type: ExportRowsResponse }) rows: ExportRowsResponse;
  /** Identifiers removed, with how many source rows carried one. */
  @ApiProperty({ type: [ReportCountResponse] }) removed: ReportCountResponse[];
  @ApiProperty({ type: [ReportGeneralizedResponse] }) generalized: ReportGeneralizedResponse[];
  @ApiProperty({ type: ReportSuppressionResponse }) suppression: ReportSuppressionResponse;
  /** Each rule applied, with its source. */
  @ApiProperty({ type: [ReportRuleResponse] }) rules: ReportRuleResponse[];
}
