import { Module } from '@nestjs/common';
import { AppCacheModule } from 'src/common/cache/app-cache.module';
import { ScoringModule } from 'src/scoring/scoring.module';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { EngagementController } from 'src/engagement/engagement.controller';
import { EngagementRepository } from 'src/engagement/engagement.repository';
import { EngagementRollupRepository } from 'src/engagement/engagement-rollup.repository';
import { EngagementRollupService } from 'src/engagement/engagement-rollup.service';
import { EngagementService } from 'src/engagement/engagement.service';

/**
 * Engagement analytics (spec endpoint 5): the overview, answered from a per-organization rollup that follows the
 * scoring engine's `recomputed$` (EngagementRollupService), and cached per window until the rollup changes.
 */
@Module({
  imports: [AppCacheModule, ScoringModule, OrganizationsModule],
  controllers: [EngagementController],
  providers: [EngagementService, EngagementRepository, EngagementRollupRepository, EngagementRollupService],
  exports: [EngagementRollupService],
})
export class EngagementModule {}
