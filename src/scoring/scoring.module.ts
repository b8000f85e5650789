import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringScheduler } from 'src/scoring/scoring.scheduler';
import { ScoringService } from 'src/scoring/scoring.service';

/**
 * The scoring engine's persistence: `ScoringService` keeps `patient_metrics` current (ingestion calls
 * `recomputePatients` after a batch), `ScoringEvents.recomputed$` tells caches to forget an organization, and a
 * nightly cron recomputes everything. The arithmetic lives in `src/scoring/domain` (pure functions).
 */
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [ScoringService, ScoringEvents, ScoringScheduler],
  exports: [ScoringService, ScoringEvents],
})
export class ScoringModule {}
