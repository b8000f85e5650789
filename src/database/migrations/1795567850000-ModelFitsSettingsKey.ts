import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scoring settings a model fit was made under (`settings_key`, a short hash: scoringSettingsKey). A small
 * organization's nightly run keeps its recent models instead of refitting every night (nightlyRefitDue,
 * docs/scaling.md "Many clinics"), and must refit after a settings change: the fit and the way the scores read the
 * models depend on them. Null for the fits made before: a refit is then due.
 */
export class ModelFitsSettingsKey1795567850000 implements MigrationInterface {
  name = 'ModelFitsSettingsKey1795567850000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_fits" ADD "settings_key" character varying(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_fits" DROP COLUMN "settings_key"`);
  }
}
