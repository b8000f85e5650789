import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `organization_unseen_tables(tables text[])`: of the given tables (tables of the public schema with an
 * `organization_id` column; any other name is passed over), those whose planner statistics take the session's
 * organization (`app.organization_id`) for almost no rows while it has many: the estimate of `SELECT 1 FROM t WHERE
 * organization_id = <it>` under 100 rows and at least 1,000 rows there (a count that stops at 1,000). For each, the
 * relation to ANALYZE: the table, or the partition the organization's rows are planned in. Empty when the session has
 * no organization. A clinic that joins a database holding a larger one is in no table's statistics until an ANALYZE
 * samples its rows, and autovacuum's analyze waits for a tenth of a table to change: until then every statement
 * reading the clinic's rows is planned for one row (docs/scaling.md, "A clinic the statistics do not know"). SECURITY
 * DEFINER, so that an organization-wide run asks on its own runtime-role connection (the statistics and the counts
 * are the owner's to read under row-level security): only of its own organization, and only whether to analyze. The
 * callers keep the lists of tables (src/scoring/recompute/maintenance.ts, src/fhir-import/import-statistics.ts); the
 * ANALYZE is the owner connection's.
 */
export class OrganizationUnseenTables1795568600000 implements MigrationInterface {
  name = 'OrganizationUnseenTables1795568600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION "organization_unseen_tables"(p_tables text[])
      RETURNS text[] LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_org uuid := nullif(current_setting('app.organization_id', true), '')::uuid;
  v_table text;
  v_plan json;
  v_rows integer;
  v_unseen text[] := '{}';
BEGIN
  IF v_org IS NULL THEN
    RETURN v_unseen;
  END IF;
  FOREACH v_table IN ARRAY p_tables LOOP
    CONTINUE WHEN NOT EXISTS (
      SELECT 1 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
       WHERE c.relnamespace = 'public'::regnamespace AND c.relname = v_table AND c.relkind IN ('r', 'p')
         AND a.attname = 'organization_id' AND NOT a.attisdropped);
    EXECUTE format('EXPLAIN (FORMAT JSON) SELECT 1 FROM public.%I WHERE organization_id = %L', v_table, v_org) INTO v_plan;
    CONTINUE WHEN (v_plan->0->'Plan'->>'Plan Rows')::float8 >= 100;
    EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM public.%I WHERE organization_id = %L LIMIT 1000) x', v_table, v_org) INTO v_rows;
    IF v_rows >= 1000 THEN
      v_unseen := v_unseen || coalesce(v_plan->0->'Plan'->>'Relation Name', v_table);
    END IF;
  END LOOP;
  RETURN v_unseen;
END $$`);
    await q.query(`REVOKE ALL ON FUNCTION "organization_unseen_tables"(text[]) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION "organization_unseen_tables"(text[]) TO patient_journey_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS "organization_unseen_tables"(text[])`);
  }
}
