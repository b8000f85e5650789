import { Injectable } from '@nestjs/common';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { FeaturesRepository } from 'src/scoring/features/features.repository';
import { ModelFitsRepository } from 'src/scoring/model-fits.repository';
import { ScoresRepository } from 'src/scoring/scores/scores.repository';

/**
 * The repositories the scoring engine's recomputes use, together: injected in the app, made with `new` by commands
 * (they hold no state; every method takes the tenant handle it runs on).
 */
@Injectable()
export class ScoringRepositories {
  constructor(
    readonly organizations: OrganizationsRepository = new OrganizationsRepository(),
    readonly features: FeaturesRepository = new FeaturesRepository(),
    readonly fits: ModelFitsRepository = new ModelFitsRepository(),
    readonly scores: ScoresRepository = new ScoresRepository(),
  ) {}
}
