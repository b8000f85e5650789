import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The role the application works as (RUNTIME_ROLE in data-source-options.ts): NOLOGIN, not superuser, not the
 * owner of any table, no BYPASSRLS, so row-level security and revoked privileges apply to it. The connecting user
 * switches to it per connection (`-c role=...`); a non-superuser connecting user is granted membership here.
 * Tables created by later migrations get the same privileges through the default privileges set here.
 */
export class RuntimeRole1795566147295 implements MigrationInterface {
  name = 'RuntimeRole1795566147295';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DO $$
BEGIN
  CREATE ROLE patient_journey_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$`);
    await queryRunner.query(`DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT patient_journey_app TO %I', current_user);
  END IF;
END $$`);
    await queryRunner.query(`GRANT USAGE ON SCHEMA public TO patient_journey_app`);
    await queryRunner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO patient_journey_app`);
    await queryRunner.query(`REVOKE ALL ON TABLE migrations FROM patient_journey_app`);
    await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO patient_journey_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO patient_journey_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO patient_journey_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO patient_journey_app`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM patient_journey_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM patient_journey_app`);
    await queryRunner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM patient_journey_app`);
    await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM patient_journey_app`);
    await queryRunner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM patient_journey_app`);
    await queryRunner.query(`REVOKE USAGE ON SCHEMA public FROM patient_journey_app`);
    // The role itself is cluster-wide and may serve other databases (tests clone one per file): it is kept.
  }
}
