import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `model_fits.accepted`: a fit attempt is stored whether or not its parameters are usable. A fit whose likelihood
 * maximum ran off to infinity (data without a real spread, such as the seeded clinic, where every patient has about
 * the same dropout chance: a and b of BG/NBD near 10⁵ and 10⁶) or an organization with too little history is stored
 * with `accepted = false`, so that the request path does not try again on every load of the organization's context
 * (a fit on a 40,000-patient sample is about 5 s at a million patients, and it ran inside an ingestion request every
 * five minutes). Existing rows were all accepted fits.
 */
export class ModelFitAccepted1795566800000 implements MigrationInterface {
  name = 'ModelFitAccepted1795566800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_fits" ADD "accepted" boolean NOT NULL DEFAULT true`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_fits" DROP COLUMN "accepted"`);
  }
}
