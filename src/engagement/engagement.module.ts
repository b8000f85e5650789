import { Module } from '@nestjs/common';
import { AppCacheModule } from 'src/common/cache/app-cache.module';
import { EngagementController } from './engagement.controller';
import { EngagementRepository } from './engagement.repository';
import { EngagementService } from './engagement.service';

@Module({
  imports: [AppCacheModule],
  controllers: [EngagementController],
  providers: [EngagementService, EngagementRepository],
})
export class EngagementModule {}
