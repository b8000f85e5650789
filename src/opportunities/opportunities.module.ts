import { Module } from '@nestjs/common';
import { ScoringModule } from 'src/scoring/scoring.module';
import { OpportunitiesController } from './opportunities.controller';
import { OpportunitiesRefresher } from './opportunities-refresher';
import { OpportunitiesRepository } from './opportunities.repository';
import { OpportunitiesService } from './opportunities.service';

@Module({
  imports: [ScoringModule],
  controllers: [OpportunitiesController],
  providers: [OpportunitiesService, OpportunitiesRepository, OpportunitiesRefresher],
  exports: [OpportunitiesRefresher],
})
export class OpportunitiesModule {}
