import { join } from 'node:path';
import { Client } from 'pg';
import type { Settings } from 'src/config/settings';
import { PhiCipherCore, resolvePhiKeys } from 'src/records/phi/phi-cipher';
import { organizationKeyAad } from 'src/records/phi/phi-data-key';

/**
 * The configured master key is not the one that wrapped the stored organization keys: started like this, the app
 * would answer 500 to every read or write of PHI. The message names where the key comes from (the setting, or the
 * file under DATA_DIR), never the key.
 */
export class MasterKeyMismatchError extends Error {
  /**
   * `embeddedDataDir`: the database is the embedded one of DATA_DIR, kept in that folder. The usual way here: a
   * checkout deleted and cloned again in the same folder (or its `.data` removed) got a new key file, while the
   * embedded cluster, kept outside the checkout when root runs it, still holds the data stored under the old one.
   */
  constructor(readonly source: string, detail: string, embeddedDataDir?: string) {
    super(
      `The PHI master key of ${source} does not open this database's organization keys (${detail}). ` +
        `Start with the master key the data was stored under (put a new key first in PHI_ENCRYPTION_KEYS and keep the old one after it, ` +
        `then run npm run rotate-keys), or point DATABASE_URL at the database of this key.` +
        (embeddedDataDir === undefined
          ? ''
          : ` This is the embedded PostgreSQL's database in ${embeddedDataDir}, kept from an earlier start under another key (a checkout cloned ` +
            `again in the same folder, or its .data folder removed, makes a new key): if that database holds nothing you need, stop every ` +
            `process of this checkout, delete ${embeddedDataDir} and start again (a new database is made and the demo seeded).`),
    );
    this.name = 'MasterKeyMismatchError';
  }
}

/** Where the master key comes from: the setting, or the file generated under DATA_DIR outside production. */
export function masterKeySource(settings: Settings): string {
  return settings.phiEncryptionKeys !== null ? 'PHI_ENCRYPTION_KEYS' : `the file ${join(settings.dataDir, 'phi-encryption-key')} (PHI_ENCRYPTION_KEYS unset)`;
}

/**
 * At start-up (the app, the worker, and the commands that open the keyring), on the opened database `db`: unwraps
 * one stored organization key per master key version found in `organization_keys` (a handful of rows whatever the
 * data), as the owner connection. Throws MasterKeyMismatchError when one does not unwrap (naming the embedded
 * database's folder when `db` is the embedded one); nothing to check on a database without organization keys.
 */
export async function checkMasterKey(
  db: { url: string; embeddedDataDir?: string },
  settings: Settings,
  master: PhiCipherCore = new PhiCipherCore(resolvePhiKeys(settings)),
): Promise<void> {
  const client = new Client({ connectionString: db.url, application_name: 'patient-journey-master-key-check' });
  await client.connect();
  try {
    const { rows } = await client.query<{ organization_id: string; version: number; wrapped_key: string }>(
      `SELECT DISTINCT ON (split_part(wrapped_key, ':', 1)) organization_id, version, wrapped_key
         FROM organization_keys ORDER BY split_part(wrapped_key, ':', 1), organization_id, version`,
    );
    for (const r of rows) {
      const masterVersion = r.wrapped_key.slice(0, Math.max(0, r.wrapped_key.indexOf(':'))).slice(0, 8);
      try {
        master.unwrapKey(r.wrapped_key, organizationKeyAad(r.organization_id, r.version));
      } catch {
        const configured = master.currentVersion;
        throw new MasterKeyMismatchError(
          masterKeySource(settings),
          `an organization key wrapped under master key version ${masterVersion || '?'} fails to unwrap; configured: ${configured}${configured === masterVersion ? ' (same version name, different key)' : ''}`,
          db.embeddedDataDir,
        );
      }
    }
  } finally {
    await client.end();
  }
}
