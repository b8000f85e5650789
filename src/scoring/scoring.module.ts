import { Module } from '@nestjs/common';
import { OrganizationsModule } from 'src/organizations/organizations.module';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { ModelFitsRepository } from 'src/scoring/model-fits.repository';
import { ScoresRepository } from 'src/scoring/scores/scores.repository';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { NightlyRecomputeJob } from 'src/scoring/jobs/nightly-recompute.job';
import { ScoringService } from 'src/scoring/scoring.service';
import { OrganizationStatisticsJob } from 'src/scoring/statistics/organization-statistics.job';
import { OrganizationStatisticsWatch } from 'src/scoring/statistics/organization-statistics.watch';

/**
 * The scoring engine's persistence: `ScoringService` keeps `patient_metrics` current (ingestion calls
 * `recomputePatients` after a batch), `ScoringEvents.recomputed$` tells caches to forget an organization, and the
 * `nightly-recompute` job (src/jobs/) recomputes each organization at night; `OrganizationStatisticsWatch` (after
 * ingestion) and the `organization-statistics` job keep the planner's statistics knowing each organization. The
 * arithmetic lives in `src/scoring/domain` (pure functions).
 */
@Module({
  imports: [OrganizationsModule],
  providers: [
    ScoringService,
    ScoringEvents,
    NightlyRecomputeJob,
    OrganizationStatisticsJob,
    OrganizationStatisticsWatch,
    FeaturesRepository,
    ModelFitsRepository,
    ScoresRepository,
    ScoringRepositories,
  ],
  exports: [ScoringService, ScoringEvents, OrganizationStatisticsWatch],
})
export class ScoringModule {}
