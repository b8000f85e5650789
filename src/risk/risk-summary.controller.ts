import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { RiskSummaryResponse } from 'src/risk/dto/risk-summary.response';
import { RiskSummaryService } from 'src/risk/risk-summary.service';

@ApiTags('risk')
@Controller('patients')
export class RiskSummaryController {
  constructor(private readonly summary: RiskSummaryService) {}

  /** How the organization's patients split by risk level and by risk trend (counts only: no patient's data, not audited). */
  @Get(':organizationId/risk-summary')
  @Authorized(Permission.AnalyticsRead)
  get(@Auth() auth: AuthContext): Promise<RiskSummaryResponse> {
    return this.summary.get(auth);
  }
}
