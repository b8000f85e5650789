import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import type { Freshness } from 'src/common/cache/freshness';
import { RequestFreshness } from 'src/common/cache/request-freshness';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { NOT_READY_PROBLEM } from 'src/common/problem/problem-docs';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { EngagementQuery } from 'src/engagement/dto/engagement.dto';
import { ENGAGEMENT_OVERVIEW_EXAMPLE } from 'src/engagement/dto/engagement.examples';
import { EngagementOverviewResponse } from 'src/engagement/dto/engagement.response';
import { EngagementService } from 'src/engagement/engagement.service';

@ApiTags('engagement')
@Controller('patients')
export class EngagementController {
  constructor(private readonly engagement: EngagementService) {}

  // Aggregates only, no patient's data: not audited.
  @Get(':organizationId/engagement/overview')
  @Authorized(Permission.AnalyticsRead)
  @Endpoint({
    operationId: 'getEngagementOverview',
    summary: 'Get the engagement overview',
    description:
      'Organization-wide engagement over a window of days: new and returning patients per day, week or month, the mean ' +
      "engagement score of the patients seen, satisfaction and NPS. Aggregates only. Counted from the organization's rollup, rebuilt " +
      'after every organization-wide recompute: from one older than SNAPSHOT_MAX_AGE_HOURS the answer comes as it is, with `Age` and ' +
      '`Cache-Status: ...; detail=snapshot-stale`, while its rebuild runs.',
    response: { description: 'The overview.', type: EngagementOverviewResponse, example: ENGAGEMENT_OVERVIEW_EXAMPLE },
    problems: [NOT_READY_PROBLEM],
  })
  getEngagementOverview(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Query() q: EngagementQuery,
    @RequestFreshness() freshness: Freshness,
  ): Promise<EngagementOverviewResponse> {
    return this.engagement.overview(auth, q, freshness);
  }
}
