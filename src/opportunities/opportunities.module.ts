import { Module } from '@nestjs/common';
import { OpportunitiesController } from './opportunities.controller';
import { OpportunitiesRefresher } from './opportunities-refresher';
import { OpportunitiesRepository } from './opportunities.repository';
import { OpportunitiesService } from './opportunities.service';

@Module({
  controllers: [OpportunitiesController],
  providers: [OpportunitiesService, OpportunitiesRepository, OpportunitiesRefresher],
  exports: [OpportunitiesRefresher],
})
export class OpportunitiesModule {}
