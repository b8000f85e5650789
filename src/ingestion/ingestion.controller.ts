import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBadRequestResponse, ApiExtraModels, ApiPayloadTooLargeResponse, ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Audited } from 'src/audit/recording/audited.decorator';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { IngestRequestDto } from 'src/ingestion/dto/ingest.dto';
import { RECORD_DOCS } from 'src/ingestion/dto/ingest-records.dto';
import { IngestResponse } from 'src/ingestion/dto/ingest.response';
import { INGEST_BODY_LIMIT_BYTES, ROUTE_BODY_LIMIT } from 'src/ingestion/ingestion-body-limit';
import { IngestionService } from 'src/ingestion/ingestion.service';

@ApiTags('ingestion')
@ApiExtraModels(...Object.values(RECORD_DOCS))
@Controller('ingest')
export class IngestionController {
  constructor(private readonly ingestion: IngestionService) {}

  /**
   * Upserts up to 5,000 typed records from an outside system (EHR, scheduling, billing, messaging, surveys,
   * automation) by (record_type, source, external_id). Answers 200 with one result per record: `created`,
   * `updated`, `unchanged` or `rejected` with reasons; valid records apply even when others are rejected, and a
   * batch sent twice changes nothing the second time. Body limit 10 MB (or BODY_LIMIT_BYTES if larger).
   */
  @Post(':organizationId/records')
  @HttpCode(200)
  @Authorized(Permission.DataWrite)
  @ApiBadRequestResponse({ description: 'Not JSON, no `records` array, or more than 5,000 records (problem+json).' })
  @ApiPayloadTooLargeResponse({ description: 'Body over the ingestion body limit (problem+json).' })
  @Audited({ action: AuditAction.Update, resource: 'records', writesOwnAudit: true })
  @RouteConfig({ [ROUTE_BODY_LIMIT]: INGEST_BODY_LIMIT_BYTES })
  ingest(@Auth() auth: AuthContext, @Body() body: IngestRequestDto, @RequestAuditor() audit: RequestAudit): Promise<IngestResponse> {
    return this.ingestion.ingest(auth, body.records, audit);
  }
}
