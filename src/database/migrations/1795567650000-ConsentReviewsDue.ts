import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `consent_reviews_due(at)`: the organizations that have at least one patient whose consent grant has expired by `at`
 * (`patients.consent_review_at`), for the consent-expiry sweep's tick. The sweep used to open one transaction per
 * organization on every tick to look (5,000 transactions a minute at 5,000 clinics); this is one statement, one
 * probe of the partial index (organization_id, consent_review_at) per organization. It runs as the owner (SECURITY
 * DEFINER, a fixed search_path) because the runtime role sees no patient outside its organization, and it returns
 * organization ids only: no patient data crosses the tenant boundary.
 *
 * Written as `min(consent_review_at) <= at` per organization, not `EXISTS (… consent_review_at <= at)`: a SQL
 * function's statement is planned for any `at`, and for that generic plan PostgreSQL chose a sequential scan of every
 * patient (9.6 s at a million patients, with the partial index's statistics stale after a bulk load); the minimum is
 * always one step into the index `(organization_id, consent_review_at)`: 0.5 ms.
 */
export class ConsentReviewsDue1795567650000 implements MigrationInterface {
  name = 'ConsentReviewsDue1795567650000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE OR REPLACE FUNCTION consent_reviews_due(at timestamptz) RETURNS SETOF uuid
         LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
           SELECT o.id FROM public.organizations o
            WHERE (SELECT min(p.consent_review_at) FROM public.patients p
                    WHERE p.organization_id = o.id AND p.consent_review_at IS NOT NULL) <= at
            ORDER BY o.slug
         $$`,
    );
    await queryRunner.query(`REVOKE ALL ON FUNCTION consent_reviews_due(timestamptz) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION consent_reviews_due(timestamptz) TO patient_journey_app`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION consent_reviews_due(timestamptz)`);
  }
}
