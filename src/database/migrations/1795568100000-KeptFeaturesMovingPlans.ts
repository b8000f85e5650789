import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `patient_features.moving_plans`: the treatment plans of a kept row whose expected progress moves with the clock (not
 * completed or abandoned, not yet at their end date), one `{planned sessions, completed sessions, start, end (epoch
 * seconds), active (1 or 0)}` row each of a two-dimensional float8 array. A kept row used to be unusable as soon as it
 * had one (its `valid_until` was the instant it was read), so about a tenth of an organization's patients was read from
 * the records every night for that alone; with the plans kept, `keptFeaturesQuery` computes their progress at the
 * run's instant, as the features query does (src/scoring/features/kept-features.sql.ts). Null: no such plan. Rows kept
 * before this column have null here and no plan under way among their usable rows, so they stay valid as they are.
 */
export class KeptFeaturesMovingPlans1795568100000 implements MigrationInterface {
  name = 'KeptFeaturesMovingPlans1795568100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "patient_features" ADD COLUMN "moving_plans" double precision[]`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "patient_features" DROP COLUMN "moving_plans"`);
  }
}
