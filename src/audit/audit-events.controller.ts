import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditEventsService } from 'src/audit/audit-events.service';
import { AuditEventsQuery, AuditOrganizationParams } from 'src/audit/dto/audit-events.query';
import { AuditEventsResponse, AuditVerifyResponse } from 'src/audit/dto/audit-events.response';
import { Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';

@ApiTags('audit')
@Controller('audit')
export class AuditEventsController {
  constructor(private readonly audit: AuditEventsService) {}

  @Get(':organizationId/events')
  @Authorized(Permission.AuditRead)
  @ApiOperation({ summary: "The organization's audit trail, newest first: who read or changed which patients' data, and denied attempts" })
  events(@Param() p: AuditOrganizationParams, @Query() q: AuditEventsQuery): Promise<AuditEventsResponse> {
    return this.audit.events(p.organizationId.toLowerCase(), q);
  }

  @Get(':organizationId/verify')
  @Authorized(Permission.AuditRead)
  @ApiOperation({ summary: "Recomputes the organization's hash chain and reports the first event that does not follow" })
  verify(@Param() p: AuditOrganizationParams): Promise<AuditVerifyResponse> {
    return this.audit.verify(p.organizationId.toLowerCase());
  }
}
