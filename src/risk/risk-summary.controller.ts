import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/audit-action';
import { Audited } from 'src/audit/audited.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { RiskSummaryResponse } from 'src/risk/dto/risk-summary.response';
import { RiskSummaryService } from 'src/risk/risk-summary.service';

@ApiTags('risk')
@Controller('patients')
export class RiskSummaryController {
  constructor(private readonly summary: RiskSummaryService) {}

  /** How the organization's patients split by risk level and by risk trend (aggregates only). */
  @Get(':organizationId/risk-summary')
  @Authorized(Permission.AnalyticsRead)
  @Audited({ action: AuditAction.Read, resource: 'risk_summary' })
  get(@Auth() auth: AuthContext): Promise<RiskSummaryResponse> {
    return this.summary.get(auth);
  }
}
