import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security, the second layer of tenant isolation: on every table with `organization_id`, the runtime
 * role `patient_journey_app` sees and writes only rows of the organization named by the transaction-local setting
 * `app.organization_id` (set by TenantDb). Unset, it sees nothing (fail closed).
 *
 * ENABLE without FORCE: the policies bind the runtime role, which owns no table; the owner (migrations, seeding)
 * is not bound. `organizations`, `users`, `memberships` and `api_keys` get no policy: the auth layer reads them to
 * find out which organization a request may use, before any organization context exists (docs/security.md).
 * Tables added by later migrations carry their own policy; test/auth/rls.int-spec.ts fails for any that does not.
 */
export const TENANT_TABLES = [
  'patients',
  'appointments',
  'automation_enrollments',
  'communications',
  'journey_events',
  'payments',
  'referrals',
  'survey_responses',
  'treatment_plans',
  'model_fits',
  'patient_metrics',
  'risk_score_history',
] as const;

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

export class TenantRowLevelSecurity1795566200000 implements MigrationInterface {
  name = 'TenantRowLevelSecurity1795566200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(
        `CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TENANT_TABLES].reverse()) {
      await queryRunner.query(`DROP POLICY IF EXISTS "${table}_tenant_isolation" ON "${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" DISABLE ROW LEVEL SECURITY`);
    }
  }
}
