import { Module } from '@nestjs/common';
import { ScoringModule } from 'src/scoring/scoring.module';
import { OpportunitiesController } from 'src/opportunities/opportunities.controller';
import { OpportunitiesRefresher } from 'src/opportunities/opportunities-refresher';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import { OpportunitiesService } from 'src/opportunities/opportunities.service';

@Module({
  imports: [ScoringModule],
  controllers: [OpportunitiesController],
  providers: [OpportunitiesService, OpportunitiesRepository, OpportunitiesRefresher],
  exports: [OpportunitiesRefresher],
})
export class OpportunitiesModule {}
