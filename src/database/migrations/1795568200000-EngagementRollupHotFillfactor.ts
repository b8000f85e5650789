import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `engagement_patient_days` and `engagement_visit_gaps` at fillfactor 50. The rollup's rebuild after a recompute
 * rewrites most of the organization's rows (each patient's row carries their engagement score, each step the sum of
 * its patients' scores; a recompute moves most scores) but none of their indexed columns (the keys and `first_day`
 * stay unless a visit was added): such a row is updated in place (HOT: no new entry in the table's indexes) only when
 * its page has room for a new version of every row on it, about half the page, since the old versions stay until the
 * rebuild commits. The setting applies to pages as they are written: existing pages converge after one rebuild that
 * moves the rows (and a VACUUM), or at once with `VACUUM FULL` of both tables (which locks them). As 1795567950000 for
 * `reengagement_opportunities`. Measured in docs/performance.md, "The engagement rebuild updates in place".
 */
export class EngagementRollupHotFillfactor1795568200000 implements MigrationInterface {
  name = 'EngagementRollupHotFillfactor1795568200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "engagement_patient_days" SET (fillfactor = 50)`);
    await queryRunner.query(`ALTER TABLE "engagement_visit_gaps" SET (fillfactor = 50)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "engagement_visit_gaps" RESET (fillfactor)`);
    await queryRunner.query(`ALTER TABLE "engagement_patient_days" RESET (fillfactor)`);
  }
}
