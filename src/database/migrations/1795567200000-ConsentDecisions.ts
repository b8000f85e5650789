import { MigrationInterface, QueryRunner } from 'typeorm';

const TENANT_PREDICATE = `organization_id = nullif(current_setting('app.organization_id', true), '')::uuid`;
const CHANNELS = `ARRAY['phone', 'sms', 'email', 'whatsapp']`;

/**
 * Consent as history (docs/privacy.md, "Consent"): `consent_decisions` under the tenant policy, never updated (a
 * trigger refuses it; deletes stay possible, for a patient's erasure), and on `patients` the effective grants the
 * consent writer keeps (`consent_grants`, `consent_review_at`). The former flags become decisions of origin
 * `migration`: one per patient and purpose (`marketing_consent` true: marketing granted, false: denied; the same for
 * `appointment_reminders`), dated by the patient's registration (when the clinic collected them), on every channel; the grants follow from them.
 */

export class ConsentDecisions1795567200000 implements MigrationInterface {
  name = 'ConsentDecisions1795567200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "consent_decisions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "organization_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "source" character varying(64) NOT NULL, "external_id" character varying(128) NOT NULL, "patient_id" uuid NOT NULL, "purpose" character varying(32) NOT NULL, "channel" character varying(16), "decision" character varying(16) NOT NULL, "recorded_at" TIMESTAMP WITH TIME ZONE NOT NULL, "origin" character varying(16) NOT NULL, "recorded_by" character varying(200) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "evidence_enc" text, CONSTRAINT "uq_consent_decisions_source_external_id" UNIQUE ("organization_id", "source", "external_id"), CONSTRAINT "ck_consent_decisions_origin" CHECK (origin IN ('front_desk', 'web_form', 'ehr_import', 'ingestion', 'migration')), CONSTRAINT "ck_consent_decisions_decision" CHECK (decision IN ('granted', 'withdrawn', 'denied')), CONSTRAINT "ck_consent_decisions_channel" CHECK (channel IS NULL OR channel IN ('phone', 'sms', 'email', 'whatsapp')), CONSTRAINT "ck_consent_decisions_purpose" CHECK (purpose IN ('appointment_reminders', 'marketing', 'analytics', 'research', 'data_sharing')), CONSTRAINT "PK_4ae21b107671cca91106eb21a71" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_consent_decisions_organization_id_patient_id_recorded_at" ON "consent_decisions"  ("organization_id", "patient_id", "recorded_at") `,
    );
    await queryRunner.query(`ALTER TABLE "patients" ADD "consent_grants" text array NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "patients" ADD "consent_review_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(
      `ALTER TABLE "consent_decisions" ADD CONSTRAINT "fk_consent_decisions_patient_id" FOREIGN KEY ("organization_id", "patient_id") REFERENCES "patients"("organization_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "consent_decisions" ADD CONSTRAINT "fk_consent_decisions_organization_id" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_patients_organization_id_consent_review_at" ON "patients" ("organization_id", "consent_review_at") WHERE consent_review_at IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "consent_decisions" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(
      `CREATE POLICY "consent_decisions_tenant_isolation" ON "consent_decisions" TO patient_journey_app USING (${TENANT_PREDICATE}) WITH CHECK (${TENANT_PREDICATE})`,
    );
    await queryRunner.query(`CREATE FUNCTION consent_decisions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'consent decisions are never updated: record a new decision' USING ERRCODE = 'restrict_violation';
      END $$`);
    await queryRunner.query(
      `CREATE TRIGGER consent_decisions_no_update BEFORE UPDATE ON consent_decisions FOR EACH ROW EXECUTE FUNCTION consent_decisions_immutable()`,
    );
    // The former flags, as decisions of origin `migration` (also what the demo seed's bulk load calls).
    await queryRunner.query(`CREATE FUNCTION consent_migrate_flags(p_organization_id uuid) RETURNS integer
      LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public AS $$
      DECLARE n integer;
      BEGIN
        CREATE TEMP TABLE IF NOT EXISTS consent_migrating (id uuid PRIMARY KEY) ON COMMIT DROP;
        TRUNCATE consent_migrating;
        INSERT INTO consent_migrating
          SELECT p.id FROM patients p
           WHERE (p_organization_id IS NULL OR p.organization_id = p_organization_id)
             AND NOT EXISTS (SELECT 1 FROM consent_decisions d WHERE d.organization_id = p.organization_id AND d.patient_id = p.id);
        INSERT INTO consent_decisions (organization_id, source, external_id, patient_id, purpose, channel, decision, recorded_at, origin, recorded_by)
          SELECT p.organization_id, 'migration', 'migration:' || p.id || ':' || f.purpose, p.id, f.purpose, NULL,
                 CASE WHEN f.flag THEN 'granted' ELSE 'denied' END, p.registered_at, 'migration', 'migration'
            FROM patients p JOIN consent_migrating m ON m.id = p.id
           CROSS JOIN LATERAL (VALUES ('marketing', p.marketing_consent), ('appointment_reminders', p.appointment_reminders)) AS f(purpose, flag);
        UPDATE patients p SET consent_grants = ARRAY(
            SELECT g FROM (SELECT 'marketing:' || c AS g FROM unnest(${CHANNELS}) c WHERE p.marketing_consent
                           UNION ALL SELECT 'appointment_reminders:' || c FROM unnest(${CHANNELS}) c WHERE p.appointment_reminders) t
             ORDER BY g COLLATE "C")
          FROM consent_migrating m WHERE m.id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION consent_migrate_flags(uuid) FROM PUBLIC`);
    await queryRunner.query(`SELECT consent_migrate_flags(NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."idx_patients_organization_id_consent_review_at"`);
    await queryRunner.query(`DROP FUNCTION consent_migrate_flags(uuid)`);
    await queryRunner.query(`DROP TRIGGER consent_decisions_no_update ON consent_decisions`);
    await queryRunner.query(`DROP FUNCTION consent_decisions_immutable()`);
    await queryRunner.query(`DROP POLICY "consent_decisions_tenant_isolation" ON "consent_decisions"`);
    await queryRunner.query(`ALTER TABLE "consent_decisions" DROP CONSTRAINT "fk_consent_decisions_organization_id"`);
    await queryRunner.query(`ALTER TABLE "consent_decisions" DROP CONSTRAINT "fk_consent_decisions_patient_id"`);
    await queryRunner.query(`ALTER TABLE "patients" DROP COLUMN "consent_review_at"`);
    await queryRunner.query(`ALTER TABLE "patients" DROP COLUMN "consent_grants"`);
    await queryRunner.query(`DROP INDEX "public"."idx_consent_decisions_organization_id_patient_id_recorded_at"`);
    await queryRunner.query(`DROP TABLE "consent_decisions"`);
  }
}
