import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { EXPORT_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { BulkExportService, EXPORT_RETRY_AFTER_SECONDS } from 'src/privacy/export/bulk-export.service';
import { CreateBulkExportBody, ExportFileParams, ExportParams } from 'src/privacy/export/dto/export.dto';
import {
  BULK_EXPORT_DELETED_EXAMPLE,
  BULK_EXPORT_MANIFEST_EXAMPLE,
  BULK_EXPORT_STATUS_EXAMPLE,
} from 'src/privacy/export/dto/export.examples';
import { BulkExportDeletedResponse, BulkExportManifestResponse, BulkExportStatusResponse } from 'src/privacy/export/dto/export.response';

const running = (reply: FastifyReply, body: BulkExportStatusResponse): BulkExportStatusResponse => {
  reply
    .status(202)
    .header('content-location', body.status_url)
    .header('x-progress', `${body.status} ${Math.round(body.progress * 100)}%`)
    .header('retry-after', String(EXPORT_RETRY_AFTER_SECONDS));
  return body;
};

@ApiTags('privacy')
@Controller('exports')
export class ExportsController {
  constructor(private readonly exports: BulkExportService) {}

  @Post(':organizationId')
  @HttpCode(202)
  @Authorized(Permission.PrivacyManage, {
    audit: {
      action: AuditAction.Export,
      resource: 'bulk_export',
      patientIds: (b: BulkExportStatusResponse) => b.request.patient_ids ?? [],
    },
  })
  @Endpoint({
    operationId: 'createBulkExport',
    summary: 'Start a bulk export',
    description:
      "Starts an export of the organization's records as FHIR R4 NDJSON (the FHIR Bulk Data pattern), one file per resource type, " +
      'optionally limited to some resource `types`, to resources changed `since` an instant, and to some `patient_ids`. Answers 202 with ' +
      '`Content-Location`, the status URL to poll. The export runs as a background job; its files are encrypted at rest and expire after ' +
      'EXPORT_FILE_TTL_HOURS (default 24).',
    response: { status: 202, description: 'The export is queued.', type: BulkExportStatusResponse, example: BULK_EXPORT_STATUS_EXAMPLE },
  })
  async createBulkExport(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() body: CreateBulkExportBody,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkExportStatusResponse> {
    return running(reply, await this.exports.create(auth, body));
  }

  @Get(':organizationId/:jobId')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Read, resource: 'bulk_export' } })
  @ApiResponse({
    status: 202,
    description: 'Still running: `X-Progress` and `Retry-After` say how far and when to ask again.',
    type: BulkExportStatusResponse,
    example: BULK_EXPORT_STATUS_EXAMPLE,
  })
  @Endpoint({
    operationId: 'getBulkExport',
    summary: 'Get a bulk export status or manifest',
    description:
      'While the export runs: 202 with `X-Progress` and `Retry-After`. When done: 200 with the manifest (`transactionTime`, `request`, ' +
      '`requiresAccessToken: true`, `output: [{ type, url, count }]`, `error: []`). A failed export answers 500 export-failed naming the reason; ' +
      'a deleted or expired one 404.',
    response: { description: 'The finished export.', type: BulkExportManifestResponse, example: BULK_EXPORT_MANIFEST_EXAMPLE },
    problems: [EXPORT_NOT_FOUND_PROBLEM],
  })
  async getBulkExport(
    @Auth() auth: AuthContext,
    @Param() p: ExportParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BulkExportStatusResponse | BulkExportManifestResponse> {
    const state = await this.exports.state(auth, p.jobId, `${request.protocol}://${request.host}`);
    return 'running' in state ? running(reply, state.running) : state.manifest;
  }

  @Get(':organizationId/:jobId/files/:fileName')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Export, resource: 'bulk_export_file' } })
  @ApiProduces('application/fhir+ndjson')
  @Endpoint({
    operationId: 'getBulkExportFile',
    summary: 'Download a bulk export file',
    description:
      "One NDJSON file of a finished export (a manifest `url`): one FHIR resource per line, decrypted as it streams. Only for the organization's " +
      'callers with privacy:manage; every download is recorded in the audit trail.',
    response: { description: 'The file (application/fhir+ndjson).', type: String, example: '{"resourceType":"Patient","id":"..."}\n' },
    problems: [EXPORT_NOT_FOUND_PROBLEM],
  })
  async getBulkExportFile(@Auth() auth: AuthContext, @Param() p: ExportFileParams): Promise<StreamableFile> {
    const { file, stream } = await this.exports.file(auth, p.jobId, p.fileName);
    return new StreamableFile(stream, {
      type: 'application/fhir+ndjson',
      disposition: `attachment; filename="${file.name}"`,
      length: file.bytes,
    });
  }

  @Delete(':organizationId/:jobId')
  @HttpCode(202)
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Delete, resource: 'bulk_export' } })
  @Endpoint({
    operationId: 'deleteBulkExport',
    summary: 'Cancel or delete a bulk export',
    description: 'Cancels the export if it still runs and deletes its files; its status then answers 404.',
    response: {
      status: 202,
      description: 'Cancelled (if it still ran), its files deleted.',
      type: BulkExportDeletedResponse,
      example: BULK_EXPORT_DELETED_EXAMPLE,
    },
    problems: [EXPORT_NOT_FOUND_PROBLEM],
  })
  deleteBulkExport(@Auth() auth: AuthContext, @Param() p: ExportParams): Promise<BulkExportDeletedResponse> {
    return this.exports.remove(auth, p.jobId);
  }
}
