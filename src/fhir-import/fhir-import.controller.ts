import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import {
  FhirTransactionResponse,
  FhirImportAccepted,
  FhirImportParams,
  FhirImportStatus,
  FhirSourceQuery,
} from 'src/fhir-import/dto/fhir-import.dto';
import { FHIR_BUNDLE_EXAMPLE, FHIR_IMPORT_ACCEPTED_EXAMPLE, FHIR_IMPORT_STATUS_EXAMPLE } from 'src/fhir-import/dto/fhir-import.examples';
import { FhirBundleService } from 'src/fhir-import/fhir-bundle.service';
import { FHIR_BUNDLE_ROUTE } from 'src/fhir-import/fhir-http';
import { FhirImportService } from 'src/fhir-import/fhir-import.service';
import { MAX_UPLOAD_FILES, multipartFiles, NDJSON_TYPES } from 'src/fhir-import/fhir-upload';

const FHIR_JSON = 'application/fhir+json';
const NOT_FOUND = {
  status: 404 as const,
  description: 'No FHIR import with this id in this organization.',
  example: problem(ProblemCode.NotFound, 404, 'No FHIR import with this id in this organization'),
};

@ApiTags('fhir')
@Controller('fhir')
export class FhirImportController {
  constructor(
    private readonly bundles: FhirBundleService,
    private readonly imports: FhirImportService,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  @Post(':organizationId')
  @HttpCode(200)
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Update, resource: 'fhir', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'ingestFhirBundle',
    summary: 'Import a FHIR R4 transaction or batch Bundle',
    description:
      "Maps the Bundle's resources onto the ingestion records (docs/fhir.md): Patient, Encounter, Appointment, Condition, AllergyIntolerance, " +
      'MedicationRequest/Statement, Claim, ExplanationOfBenefit, Invoice, CarePlan, Communication, QuestionnaireResponse; other types are skipped. ' +
      'Answers a transaction-response or batch-response Bundle, one entry per input entry in order (`201 Created`, `200 OK`, or `400 Bad Request` ' +
      'with an OperationOutcome naming the element). A transaction is all or nothing: one bad entry answers 400 with the OperationOutcome and ' +
      'writes nothing. Sent twice, nothing changes. Body `application/fhir+json` or `application/json`, up to FHIR_BUNDLE_LIMIT_BYTES (50 MB).',
    response: { description: 'The response Bundle.', type: FhirTransactionResponse, example: FHIR_BUNDLE_EXAMPLE },
    problems: [
      {
        status: 413,
        description: 'The Bundle is larger than FHIR_BUNDLE_LIMIT_BYTES.',
        example: problem(ProblemCode.PayloadTooLarge, 413, 'The request body is larger than the limit'),
      },
    ],
  })
  @ApiConsumes(FHIR_JSON, 'application/json')
  @RouteConfig({ [FHIR_BUNDLE_ROUTE]: true })
  async ingestFhirBundle(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Query() q: FhirSourceQuery,
    @Body() body: unknown,
    @RequestAuditor() audit: RequestAudit,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirTransactionResponse> {
    const answer = await this.bundles.process(auth.organizationId, body, q.source, (db, patientIds) =>
      audit.record(db, { action: AuditAction.Update, patientIds }),
    );
    void reply.status(answer.status).type(FHIR_JSON);
    return answer.body as unknown as FhirTransactionResponse;
  }

  @Post(':organizationId/import')
  @HttpCode(202)
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Create, resource: 'fhir-import' } })
  @Endpoint({
    operationId: 'ingestFhirBulk',
    summary: 'Start a FHIR Bulk Data NDJSON import',
    description:
      'The body is one NDJSON file (`application/fhir+ndjson`: one FHIR R4 resource per line, any types mixed, in any order, any size), or ' +
      `several as \`multipart/form-data\` (one file part per NDJSON file, at most ${MAX_UPLOAD_FILES}; each part's filename names its lines in the ` +
      'outcomes and the result). It is streamed into the encrypted file store and imported by a background job: patients first, then the rest, ' +
      'so references resolve whatever the order of files and lines. Up to FHIR_IMPORT_LIMIT_BYTES in all (8 GiB; 413 above). A refused upload ' +
      "keeps nothing. Answers 202 with `Content-Location`; poll it for progress (`X-Progress`), then the counts and the rejected lines' OperationOutcomes.",
    response: {
      status: 202,
      description: 'Accepted: the import runs in the background.',
      type: FhirImportAccepted,
      example: FHIR_IMPORT_ACCEPTED_EXAMPLE,
    },
    problems: [
      {
        status: 413,
        description: `The upload is larger than FHIR_IMPORT_LIMIT_BYTES, or has more than ${MAX_UPLOAD_FILES} parts.`,
        example: problem(
          ProblemCode.PayloadTooLarge,
          413,
          'The upload is larger than FHIR_IMPORT_LIMIT_BYTES (8589934592 bytes): nothing was kept; split the export into several imports',
        ),
      },
      {
        status: 415,
        description: 'Not NDJSON (the body, or a part of a multipart upload).',
        example: problem(
          ProblemCode.UnsupportedMediaType,
          415,
          'Send the NDJSON as application/fhir+ndjson (or application/x-ndjson), or its files as multipart/form-data',
        ),
      },
    ],
  })
  @ApiConsumes('application/fhir+ndjson', 'application/x-ndjson', 'multipart/form-data')
  @ApiOperation({
    summary: 'Start a FHIR Bulk Data NDJSON import',
    requestBody: {
      required: true,
      content: {
        ...Object.fromEntries(
          NDJSON_TYPES.slice(0, 2).map((type) => [
            type,
            { schema: { type: 'string', description: 'One FHIR R4 resource per line.' }, example: '{"resourceType":"Patient","id":"p1",...}\n' },
          ]),
        ),
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['files'],
            properties: {
              files: {
                type: 'array',
                items: { type: 'string', format: 'binary' },
                description:
                  "One file part per NDJSON file (`Content-Type: application/fhir+ndjson`, or a `.ndjson` filename); the part's filename names its lines in the outcomes. Any field name.",
              },
            },
          },
          encoding: { files: { contentType: 'application/fhir+ndjson' } },
        },
      },
    },
  })
  async ingestFhirBulk(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Query() q: FhirSourceQuery,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirImportAccepted> {
    const accepted = request.isMultipart()
      ? await this.imports.startFiles(auth, multipartFiles(request, this.settings.fhirImportLimitBytes), q.source)
      : await this.imports.start(auth, body, q.source);
    void reply.header('content-location', accepted.status_url);
    return accepted;
  }

  @Get(':organizationId/import/:importId')
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Read, resource: 'fhir-import' } })
  @Endpoint({
    operationId: 'getFhirImport',
    summary: "Get a FHIR import's progress or result",
    description:
      "While the import runs: 202 with `X-Progress` (a percentage). Once done: 200 with the counts per resource type and outcome, and the URL of the rejected lines' OperationOutcomes (NDJSON).",
    response: { description: "The import's state.", type: FhirImportStatus, example: FHIR_IMPORT_STATUS_EXAMPLE },
    problems: [NOT_FOUND],
  })
  async getFhirImport(
    @Auth() auth: AuthContext,
    @Param() p: FhirImportParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<FhirImportStatus> {
    const status = await this.imports.status(auth.organizationId, p.importId);
    if (status.status === 'queued' || status.status === 'running')
      void reply.status(202).header('x-progress', `${Math.round((status.progress ?? 0) * 100)}%`);
    return status;
  }

  @Get(':organizationId/import/:importId/outcomes')
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Read, resource: 'fhir-import' } })
  @Endpoint({
    operationId: 'getFhirImportOutcomes',
    summary: "Get a FHIR import's rejected lines",
    description:
      'NDJSON (`application/fhir+ndjson`): one OperationOutcome per rejected line, naming its file and line and the element at fault.',
    response: {
      description: 'The OperationOutcomes, one per line.',
      type: String,
      example: '{"resourceType":"OperationOutcome","issue":[...]}',
    },
    problems: [NOT_FOUND],
  })
  async getFhirImportOutcomes(
    @Auth() auth: AuthContext,
    @Param() p: FhirImportParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const parts: Buffer[] = [];
    for await (const chunk of await this.imports.outcomes(auth.organizationId, p.importId)) parts.push(chunk);
    void reply.type('application/fhir+ndjson');
    return Buffer.concat(parts).toString('utf8');
  }
}
