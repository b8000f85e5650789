import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `reengagement_opportunities` at fillfactor 50. The refresh upserts every opportunity of the organization in one
 * statement (src/opportunities/opportunities.sql.ts), and most rows keep their indexed columns (type, priority,
 * expected return) from one refresh to the next: such a row is updated in place (HOT: no entries in the four indexes)
 * only when its page has room for a new version of every row on it, about half the page. The setting applies to
 * pages as they are written: existing pages converge as refreshes move rows, or at once with
 * `VACUUM FULL reengagement_opportunities` (which locks the table). As 1795566790000 for `patient_metrics`.
 */
export class OpportunitiesHotFillfactor1795567950000 implements MigrationInterface {
  name = 'OpportunitiesHotFillfactor1795567950000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" SET (fillfactor = 50)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "reengagement_opportunities" RESET (fillfactor)`);
  }
}
