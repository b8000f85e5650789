import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExtraModels, ApiTags } from '@nestjs/swagger';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { IngestRequestDto } from 'src/ingestion/dto/ingest.dto';
import { INGEST_EXAMPLE } from 'src/ingestion/dto/ingest.examples';
import { RECORD_DOCS } from 'src/ingestion/dto/ingest-records.dto';
import { IngestResponse } from 'src/ingestion/dto/ingest.response';
import { INGEST_BODY_LIMIT_BYTES, ROUTE_BODY_LIMIT } from 'src/ingestion/ingestion-body-limit';
import { IngestionService } from 'src/ingestion/ingestion.service';

@ApiTags('ingestion')
@ApiExtraModels(...Object.values(RECORD_DOCS))
@Controller('ingest')
export class IngestionController {
  constructor(private readonly ingestion: IngestionService) {}

  // Records its own audit events, inside the transaction that writes (writesOwnAudit). @RouteConfig stays below
  // @Authorized: applied first, so that the audit options are merged into its config rather than replaced.
  @Post(':organizationId/records')
  @HttpCode(200)
  @Authorized(Permission.DataWrite, { audit: { action: AuditAction.Update, resource: 'records', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'ingestRecords',
    summary: 'Ingest records',
    description:
      'Upserts up to 5,000 typed records from an outside system (EHR, scheduling, billing, messaging, surveys, automation) by ' +
      '(record_type, source, external_id). Answers 200 with one result per record: `created`, `updated`, `unchanged`, or ' +
      '`rejected` with reasons; valid records apply even when others are rejected, and a batch sent twice changes nothing the ' +
      'second time. A 400 refuses the whole batch (not JSON, no `records` array, more than 5,000 records). Body limit 10 MB ' +
      '(or BODY_LIMIT_BYTES if larger).',
    response: { description: 'One result per record, and the counts.', type: IngestResponse, example: INGEST_EXAMPLE },
    problems: [
      {
        status: 413,
        description: 'The body is larger than the ingestion body limit.',
        example: problem(ProblemCode.PayloadTooLarge, 413, 'The request body is larger than the limit'),
      },
    ],
  })
  @RouteConfig({ [ROUTE_BODY_LIMIT]: INGEST_BODY_LIMIT_BYTES })
  ingestRecords(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() body: IngestRequestDto,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<IngestResponse> {
    return this.ingestion.ingest(auth, body.records, audit);
  }
}
