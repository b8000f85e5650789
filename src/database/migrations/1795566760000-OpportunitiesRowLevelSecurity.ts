import { MigrationInterface, QueryRunner } from 'typeorm';

/** Row-level security on the opportunities tables, as 1795566200000-TenantRowLevelSecurity does for the others. */
const TABLES = ['reengagement_opportunities', 'opportunity_refreshes'] as const;

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

export class OpportunitiesRowLevelSecurity1795566760000 implements MigrationInterface {
  name = 'OpportunitiesRowLevelSecurity1795566760000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(
        `CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) {
      await queryRunner.query(`DROP POLICY IF EXISTS "${table}_tenant_isolation" ON "${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`);
    }
  }
}
