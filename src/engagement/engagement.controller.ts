import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { EngagementParams, EngagementQuery } from 'src/engagement/dto/engagement.dto';
import { EngagementOverviewResponse } from 'src/engagement/dto/engagement.response';
import { EngagementService } from 'src/engagement/engagement.service';

@ApiTags('engagement')
@Controller('patients')
export class EngagementController {
  constructor(private readonly engagement: EngagementService) {}

  /** Organization-wide engagement: new and returning patients over time, satisfaction and NPS. Aggregates only. */
  @Get(':organizationId/engagement/overview')
  @Authorized(Permission.AnalyticsRead)
  overview(@Auth() auth: AuthContext, @Param() _p: EngagementParams, @Query() q: EngagementQuery): Promise<EngagementOverviewResponse> {
    return this.engagement.overview(auth, q);
  }
}
