import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { ModelFitsRepository } from 'src/scoring/model-fits.repository';
import { ScoresRepository } from 'src/scoring/scores/scores.repository';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringScheduler } from 'src/scoring/scoring.scheduler';
import { ScoringService } from 'src/scoring/scoring.service';

/**
 * The scoring engine's persistence: `ScoringService` keeps `patient_metrics` current (ingestion calls
 * `recomputePatients` after a batch), `ScoringEvents.recomputed$` tells caches to forget an organization, and a
 * nightly cron recomputes everything. The arithmetic lives in `src/scoring/domain` (pure functions).
 */
@Module({
  imports: [ScheduleModule.forRoot(), OrganizationsModule],
  providers: [ScoringService, ScoringEvents, ScoringScheduler, FeaturesRepository, ModelFitsRepository, ScoresRepository, ScoringRepositories],
  exports: [ScoringService, ScoringEvents],
})
export class ScoringModule {}
