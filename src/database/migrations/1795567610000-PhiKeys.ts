import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;

/**
 * Envelope encryption (docs/privacy.md, "Keys"): each organization's key, wrapped by the master key, and each
 * patient's data key, wrapped by the organization's key, under the tenant policy. The runtime role reads, creates
 * and deletes keys but never rewrites one (re-wrapping is `npm run rotate-keys`, as the owner).
 */
export class PhiKeys1795567610000 implements MigrationInterface {
  name = 'PhiKeys1795567610000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "organization_keys" ("organization_id" uuid NOT NULL, "version" integer NOT NULL, "wrapped_key" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_organization_keys" PRIMARY KEY ("organization_id", "version"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "patient_keys" ("organization_id" uuid NOT NULL, "patient_id" uuid NOT NULL, "wrapped_key" bytea NOT NULL, "kek_version" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_patient_keys" PRIMARY KEY ("organization_id", "patient_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "organization_keys" ADD CONSTRAINT "fk_organization_keys_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "patient_keys" ADD CONSTRAINT "fk_patient_keys_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "patient_keys" ADD CONSTRAINT "fk_patient_keys_patient_id" FOREIGN KEY ("organization_id", "patient_id") REFERENCES "patients"("organization_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    for (const table of ['organization_keys', 'patient_keys']) {
      await queryRunner.query(`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`);
      await queryRunner.query(
        `CREATE POLICY "${table}_tenant_isolation" ON "${table}" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
      );
      await queryRunner.query(`GRANT SELECT, INSERT, DELETE ON "${table}" TO patient_journey_app`);
      await queryRunner.query(`REVOKE UPDATE, TRUNCATE ON "${table}" FROM patient_journey_app`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP POLICY "patient_keys_tenant_isolation" ON "patient_keys"`);
    await queryRunner.query(`DROP POLICY "organization_keys_tenant_isolation" ON "organization_keys"`);
    await queryRunner.query(`ALTER TABLE "patient_keys" DROP CONSTRAINT "fk_patient_keys_patient_id"`);
    await queryRunner.query(`ALTER TABLE "patient_keys" DROP CONSTRAINT "fk_patient_keys_organization_id"`);
    await queryRunner.query(`ALTER TABLE "organization_keys" DROP CONSTRAINT "fk_organization_keys_organization_id"`);
    await queryRunner.query(`DROP TABLE "patient_keys"`);
    await queryRunner.query(`DROP TABLE "organization_keys"`);
  }
}
