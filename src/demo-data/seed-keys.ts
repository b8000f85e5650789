import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import type { BlindIndexKind, PhiCipherCore } from 'src/records/phi/phi-cipher';
import { CopyTable } from 'src/demo-data/copy-table';
import { DATA_KEY_BYTES, newDataKey, organizationKeyAad, PhiDataKey, wrapPatientKey } from 'src/records/phi/phi-data-key';

/**
 * The seed's keys, as the app makes them (PhiKeyring): the organization's key (stored, or created and wrapped by the
 * master key), and for each generated patient a fresh data key, wrapped by it into `patient_keys` (loaded by COPY
 * after the patients).
 */
export class SeedKeys {
  readonly table = new CopyTable('patient_keys', ['organization_id', 'patient_id', 'wrapped_key', 'kek_version']);

  private constructor(
    private readonly master: PhiCipherCore,
    private readonly organizationId: string,
    private readonly kek: Buffer,
    private readonly kekVersion: number,
  ) {}

  /** The organization's current key (created when it has none), as the owner connection of the seed. */
  static async open(client: Client, master: PhiCipherCore, organizationId: string): Promise<SeedKeys> {
    const org = organizationId.toLowerCase();
    // Version 1 only when the organization has no key at all (after a rotation of its key only version 2+ exists).
    await client.query(
      `INSERT INTO organization_keys (organization_id, version, wrapped_key)
       SELECT $1::uuid, 1, $2 WHERE NOT EXISTS (SELECT 1 FROM organization_keys WHERE organization_id = $1::uuid) ON CONFLICT DO NOTHING`,
      [org, master.wrapKey(randomBytes(DATA_KEY_BYTES), organizationKeyAad(org, 1))],
    );
    const { rows } = await client.query<{ version: number; wrapped_key: string }>(
      `SELECT version, wrapped_key FROM organization_keys WHERE organization_id = $1 ORDER BY version DESC LIMIT 1`,
      [org],
    );
    return new SeedKeys(master, org, master.unwrapKey(rows[0].wrapped_key, organizationKeyAad(org, rows[0].version)), rows[0].version);
  }

  /**
   * A new organization's key, made here and not yet stored (the seed of many clinics generates before it writes):
   * the keys, and the wrapped key to insert as `organization_keys` version 1.
   */
  static fresh(master: PhiCipherCore, organizationId: string): { keys: SeedKeys; wrappedKey: string } {
    const org = organizationId.toLowerCase();
    const kek = randomBytes(DATA_KEY_BYTES);
    return { keys: new SeedKeys(master, org, kek, 1), wrappedKey: master.wrapKey(kek, organizationKeyAad(org, 1)) };
  }

  /** The same keys with a table of their own (one generation block's `patient_keys` rows). */
  fork(): SeedKeys {
    return new SeedKeys(this.master, this.organizationId, this.kek, this.kekVersion);
  }

  /** The organization's key as `open` or `fresh` found it, in a generator thread (seed-block.ts). */
  static of(master: PhiCipherCore, organizationId: string, kek: Buffer, kekVersion: number): SeedKeys {
    return new SeedKeys(master, organizationId.toLowerCase(), kek, kekVersion);
  }

  /** The organization's key and its version, for the run's generator threads (in this process only). */
  get organizationKey(): { kek: Buffer; version: number } {
    return { kek: this.kek, version: this.kekVersion };
  }

  /** A new patient's data key (its wrapped form queued for `patient_keys`). */
  patient(patientId: string): PhiDataKey {
    const key = newDataKey();
    const wrapped = wrapPatientKey(this.kek, this.organizationId, patientId, this.kekVersion, key);
    this.table.push(`${this.organizationId}\t${patientId}\t\\\\x${wrapped.toString('hex')}\t${this.kekVersion}`);
    return new PhiDataKey(this.organizationId, 'p1', key, this.master);
  }

  blindIndex(kind: BlindIndexKind, value: string): string {
    return this.master.blindIndex(kind, value);
  }
}
