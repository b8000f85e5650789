import { Controller, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { Freshness } from 'src/common/cache/freshness';
import { RequestFreshness } from 'src/common/cache/request-freshness';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { ORGANIZATION_PARAMS_SCHEMA, OrganizationParams } from 'src/common/http/path-params.dto';
import { ValidatedBySchema } from 'src/common/validation/request-schemas';
import { RISK_SUMMARY_EXAMPLE } from 'src/risk/dto/risk-summary.examples';
import { RiskSummaryResponse } from 'src/risk/dto/risk-summary.response';
import { RiskSummaryService } from 'src/risk/risk-summary.service';

@ApiTags('risk')
@Controller('patients')
export class RiskSummaryController {
  constructor(private readonly summary: RiskSummaryService) {}

  // Counts only, no patient's data: not audited.
  @Get(':organizationId/risk-summary')
  @Authorized(Permission.AnalyticsRead)
  @Endpoint({
    operationId: 'getRiskSummary',
    summary: 'Get the risk summary',
    description:
      "How the organization's patients split by risk level (low, medium, high) and by risk trend (improving, stable, declining). " +
      'Counts only: both breakdowns sum to `total_patients`.',
    response: { description: 'The counts.', type: RiskSummaryResponse, example: RISK_SUMMARY_EXAMPLE },
  })
  @ValidatedBySchema(ORGANIZATION_PARAMS_SCHEMA)
  getRiskSummary(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @RequestFreshness() freshness: Freshness): Promise<RiskSummaryResponse> {
    return this.summary.get(auth, freshness);
  }
}
