import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { RequestAudit } from 'src/audit/recording/request-audit-recorder';
import { RequestAuditor } from 'src/audit/recording/request-auditor.decorator';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { RETENTION_POLICY_EXAMPLE, RetentionPolicyBody, RetentionPolicyResponse } from 'src/privacy/retention/dto/retention.dto';
import { RetentionService } from 'src/privacy/retention/retention.service';

@ApiTags('privacy')
@Controller('organizations')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get(':organizationId/retention')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Read, resource: 'retention_policy' } })
  @Endpoint({
    operationId: 'getRetentionPolicy',
    summary: 'Get the retention policy',
    description: "The organization's retention policy; without one set, the defaults: keep patients (`null`), 6 years of audit.",
    response: { description: 'The policy.', type: RetentionPolicyResponse, example: RETENTION_POLICY_EXAMPLE },
  })
  getRetentionPolicy(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<RetentionPolicyResponse> {
    return this.retention.get(auth);
  }

  @Put(':organizationId/retention')
  @Authorized(Permission.PrivacyManage, { audit: { action: AuditAction.Update, resource: 'retention_policy', writesOwnAudit: true } })
  @Endpoint({
    operationId: 'replaceRetentionPolicy',
    summary: 'Set the retention policy',
    description:
      'Replaces the policy: `inactive_patient_years` (a number, or `null` to keep patients) and `audit_years` (at least 6). The nightly ' +
      'retention sweep (and `npm run retention:sweep`) erases the patients inactive for longer (basis `retention`, legal holds respected) ' +
      'and archives then retires the audit months older than `audit_years`. Audited.',
    response: { description: 'The policy now in force.', type: RetentionPolicyResponse, example: RETENTION_POLICY_EXAMPLE },
  })
  replaceRetentionPolicy(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() body: RetentionPolicyBody,
    @RequestAuditor() audit: RequestAudit,
  ): Promise<RetentionPolicyResponse> {
    return this.retention.put(auth, body, audit);
  }
}
