import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `patients.contact_enc`: the patient's phone and email as one ciphertext (JSON `{"phone","email"}` under the
 * patient's data key, bound to its own place `patients.contact_enc.<id>`), for the patient list: one AES-GCM
 * decryption per row instead of two (docs/privacy.md, "The list's contact ciphertext"). Written wherever phone and
 * email are written (ingestion and FHIR import, the seed, `npm run rotate-keys`); a row without it (stored before
 * this migration) is read from `phone_enc` and `email_enc` until `npm run rotate-keys` fills it in. Nullable, no
 * default: adding it rewrites nothing.
 */
export class PatientContactCiphertext1795567720000 implements MigrationInterface {
  name = 'PatientContactCiphertext1795567720000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE patients ADD COLUMN contact_enc text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE patients DROP COLUMN contact_enc`);
  }
}
