import { Body, Controller, Get, Header, HttpCode, Param, Post, StreamableFile } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { DeidentifiedExportService } from 'src/privacy/deidentified-export.service';
import { CreateDeidentifiedExportDto, ExportFileParams, ExportParams } from 'src/privacy/dto/deidentified-export.dto';
import {
  DEIDENTIFICATION_REPORT_EXAMPLE,
  DEIDENTIFIED_EXPORT_EXAMPLE,
  DEIDENTIFIED_EXPORT_QUEUED_EXAMPLE,
} from 'src/privacy/dto/deidentified-export.examples';
import { DeidentificationReportResponse, DeidentifiedExportResponse } from 'src/privacy/dto/deidentified-export.response';

const EXPORT_NOT_FOUND = {
  status: 404 as const,
  description: 'No de-identified export with this id in the organization.',
  example: problem(ProblemCode.NotFound, 404, 'No de-identified export with this id in this organization'),
};
const AUDIT = { resource: 'deidentified_export' };

@ApiTags('analytics')
@Controller('analytics/:organizationId/deidentified-exports')
export class DeidentifiedExportController {
  constructor(private readonly exports: DeidentifiedExportService) {}

  @Post()
  @HttpCode(202)
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Export, ...AUDIT } })
  @Endpoint({
    operationId: 'createDeidentifiedExport',
    summary: 'Start a de-identified export',
    description:
      'Starts a background export of a data set for research or benchmarking under HIPAA Safe Harbor (45 CFR 164.514(b)(2)): ' +
      'one row per consenting patient with a random study id, and their visits, payments and scores keyed by it; no names, contacts, ' +
      'street, city, full ZIP, record numbers or free text; ZIP3 only for areas of more than 20,000 people; dates as years (or days ' +
      'since the first visit with `dates: interval`); ages over 89 as 90+; every combination of birth-year band, ZIP3 and state ' +
      'covering at least k patients. Answers 202 with the export to poll; its files (encrypted at rest) expire after 24 hours.',
    response: {
      status: 202,
      description: 'The export, queued.',
      type: DeidentifiedExportResponse,
      example: DEIDENTIFIED_EXPORT_QUEUED_EXAMPLE,
    },
  })
  createDeidentifiedExport(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() body: CreateDeidentifiedExportDto,
  ): Promise<DeidentifiedExportResponse> {
    return this.exports.create(auth, body);
  }

  @Get(':jobId')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Read, ...AUDIT } })
  @Endpoint({
    operationId: 'getDeidentifiedExport',
    summary: 'Get a de-identified export',
    description:
      "The export's status and, once it succeeded, its manifest: the files with their rows and download URLs, and how many patients were generalized or suppressed.",
    response: { description: 'The export.', type: DeidentifiedExportResponse, example: DEIDENTIFIED_EXPORT_EXAMPLE },
    problems: [EXPORT_NOT_FOUND],
  })
  getDeidentifiedExport(@Auth() auth: AuthContext, @Param() p: ExportParams): Promise<DeidentifiedExportResponse> {
    return this.exports.get(auth, p.jobId);
  }

  @Get(':jobId/report')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Read, ...AUDIT } })
  @Endpoint({
    operationId: 'getDeidentifiedExportReport',
    summary: 'Get the de-identification report of an export',
    description:
      'What the export removed, generalized and suppressed, with counts and the rule and source of each step, for a privacy officer to sign off. 409 until the export succeeded.',
    response: { description: 'The report.', type: DeidentificationReportResponse, example: DEIDENTIFICATION_REPORT_EXAMPLE },
    problems: [
      EXPORT_NOT_FOUND,
      {
        status: 409,
        description: 'The export has not succeeded (yet).',
        example: problem(ProblemCode.Conflict, 409, 'The export is running: its report exists once it succeeded'),
      },
    ],
  })
  getDeidentifiedExportReport(@Auth() auth: AuthContext, @Param() p: ExportParams): Promise<DeidentificationReportResponse> {
    return this.exports.report(auth, p.jobId);
  }

  @Get(':jobId/files/:fileName')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Export, ...AUDIT } })
  @ApiProduces('application/x-ndjson')
  @Header('cache-control', 'no-store')
  @Endpoint({
    operationId: 'getDeidentifiedExportFile',
    summary: 'Download a file of a de-identified export',
    description:
      'One NDJSON file of a succeeded export (`patients.ndjson`, `visits.ndjson`, `payments.ndjson`, `scores.ndjson`), decrypted as it streams. 404 once it expired.',
    response: {
      description: 'The file, one JSON object per line.',
      type: String,
      example: '{"study_id":"2b6f0c1e-8d4a-4f3b-9c2d-1e0f9a8b7c6d","birth_year_band":"1980-1989","zip3":"972","state":"OR"}\n',
    },
    problems: [EXPORT_NOT_FOUND],
  })
  getDeidentifiedExportFile(@Auth() auth: AuthContext, @Param() p: ExportFileParams): Promise<StreamableFile> {
    return this.exports.file(auth, p.jobId, p.fileName);
  }
}
