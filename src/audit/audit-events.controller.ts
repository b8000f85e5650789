import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditEventsService } from 'src/audit/audit-events.service';
import { AUDIT_EVENTS_EXAMPLE, AUDIT_VERIFY_EXAMPLE } from 'src/audit/dto/audit-events.examples';
import { AuditEventsQuery } from 'src/audit/dto/audit-events.query';
import { AuditEventsResponse, AuditVerifyResponse } from 'src/audit/dto/audit-events.response';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';

@ApiTags('audit')
@Controller('audit')
export class AuditEventsController {
  constructor(private readonly audit: AuditEventsService) {}

  // The trail names patients by id only (no PHI): reading it is not itself audited.
  @Get(':organizationId/events')
  @Authorized(Permission.AuditRead)
  @Endpoint({
    operationId: 'listAuditEvents',
    summary: 'List audit events',
    description:
      "The organization's audit trail, newest first: who read, listed or changed which patients' data, and the denied attempts. " +
      "Filter by patient, actor, action and time; page with the previous page's `next_cursor` (null on the last page).",
    response: { description: 'A page of events.', type: AuditEventsResponse, example: AUDIT_EVENTS_EXAMPLE },
  })
  listAuditEvents(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @Query() q: AuditEventsQuery): Promise<AuditEventsResponse> {
    return this.audit.events(auth.organizationId, q);
  }

  @Get(':organizationId/verify')
  @Authorized(Permission.AuditRead)
  @Endpoint({
    operationId: 'verifyAuditTrail',
    summary: 'Verify the audit trail',
    description: "Recomputes the organization's hash chain and reports the first event that does not follow (altered, missing or out of sequence).",
    response: { description: 'The verdict.', type: AuditVerifyResponse, example: AUDIT_VERIFY_EXAMPLE },
  })
  verifyAuditTrail(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<AuditVerifyResponse> {
    return this.audit.verify(auth.organizationId);
  }
}
