import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;
const TABLES = ['stored_files', 'stored_file_chunks'];

/**
 * The encrypted file store (src/file-store/): `stored_files` and their `stored_file_chunks`, both under the tenant
 * policy, and `stored_files_delete_expired(now)`, which removes every organization's expired files (nothing is read:
 * the one cross-organization write of the store, run by the jobs' periodic tick).
 */

export class StoredFiles1795567050000 implements MigrationInterface {
  name = 'StoredFiles1795567050000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "stored_files" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "run_id" uuid, "name" character varying(200) NOT NULL, "content_type" character varying(100) NOT NULL, "status" character varying(16) NOT NULL, "lines" bigint NOT NULL DEFAULT '0', "bytes" bigint NOT NULL DEFAULT '0', "chunks" integer NOT NULL DEFAULT '0', "key_wrapped" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "ck_stored_files_status" CHECK (status IN ('writing', 'complete')), CONSTRAINT "pk_stored_files" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_stored_files_expires_at" ON "stored_files"  ("expires_at") WHERE expires_at IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "idx_stored_files_organization_id_run_id" ON "stored_files"  ("organization_id", "run_id") `);
    await queryRunner.query(`CREATE TABLE "stored_file_chunks" ("file_id" uuid NOT NULL, "seq" integer NOT NULL, "organization_id" uuid NOT NULL, "data" bytea NOT NULL, CONSTRAINT "pk_stored_file_chunks" PRIMARY KEY ("file_id", "seq"))`);
    await queryRunner.query(`ALTER TABLE "stored_files" ADD CONSTRAINT "fk_stored_files_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "stored_file_chunks" ADD CONSTRAINT "fk_stored_file_chunks_file_id" FOREIGN KEY ("file_id") REFERENCES "stored_files"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    await queryRunner.query(`ALTER TABLE "stored_file_chunks" ADD CONSTRAINT "fk_stored_file_chunks_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(`CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`);
    }
    await queryRunner.query(`CREATE FUNCTION stored_files_delete_expired(p_now timestamptz) RETURNS integer
      LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        WITH gone AS (DELETE FROM stored_files WHERE expires_at IS NOT NULL AND expires_at <= p_now RETURNING 1) SELECT count(*)::int FROM gone
      $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION stored_files_delete_expired(timestamptz) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION stored_files_delete_expired(timestamptz) TO patient_journey_app`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION stored_files_delete_expired(timestamptz)`);
    for (const table of TABLES) await queryRunner.query(`DROP POLICY "${table}_tenant_isolation" ON "${table}"`);
    await queryRunner.query(`ALTER TABLE "stored_file_chunks" DROP CONSTRAINT "fk_stored_file_chunks_organization_id"`);
    await queryRunner.query(`ALTER TABLE "stored_file_chunks" DROP CONSTRAINT "fk_stored_file_chunks_file_id"`);
    await queryRunner.query(`ALTER TABLE "stored_files" DROP CONSTRAINT "fk_stored_files_organization_id"`);
    await queryRunner.query(`DROP TABLE "stored_file_chunks"`);
    await queryRunner.query(`DROP INDEX "public"."idx_stored_files_organization_id_run_id"`);
    await queryRunner.query(`DROP INDEX "public"."idx_stored_files_expires_at"`);
    await queryRunner.query(`DROP TABLE "stored_files"`);
  }
}
