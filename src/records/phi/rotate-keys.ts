import { Client } from 'pg';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { encryptContact } from 'src/records/phi/patient-contact';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import type { PhiPlace } from 'src/records/phi/phi-data-key';
import { organizationKeyAad } from 'src/records/phi/phi-data-key';
import type { PatientKeys, PhiKeyringCore } from 'src/records/phi/phi-keyring-core';

/** Every encrypted column of a table with an `id` and a `patient_id` (patients: the id is the patient's). */
export const ENCRYPTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  patients: ['phone_enc', 'email_enc', 'contact_enc', 'date_of_birth_enc', 'address_enc', 'conditions_enc', 'allergies_enc', 'medications_enc'],
  appointments: ['notes_enc'],
  communications: ['notes_enc'],
  survey_responses: ['comment_enc'],
  consent_decisions: ['evidence_enc'],
};

/** A value in the former format: `v<n>:` (one master key for all, no place binding). */
const LEGACY = `'^v[0-9]'`;

/** Patients stored before `contact_enc` existed: phone or email without the contact ciphertext the list reads. */
const WITHOUT_CONTACT = '(contact_enc IS NULL AND (phone_enc IS NOT NULL OR email_enc IS NOT NULL))';

export interface RotationOptions {
  /** Rows per statement (default 2,000). */
  batchSize?: number;
  /** Also recompute the email/phone blind indexes (after changing PHI_BLIND_INDEX_KEY). */
  reindex?: boolean;
  /**
   * Only re-wrap the organization keys: no scan for former-format values (which reads every encrypted column, about
   * 2 s per 100,000 patients). For master key rotations once a run has reported nothing left to convert.
   */
  rewrapOnly?: boolean;
  /** Called with the rows done so far and the total, once the total is known. */
  onProgress?: (done: number, total: number) => void;
}

export interface RotationResult {
  /** Organization keys re-wrapped under the newest master key. */
  organizationKeys: number;
  /** Rows whose former-format values were converted (or whose blind indexes were recomputed), by table. */
  rows: Record<string, number>;
  /** Values converted from the former format. */
  values: number;
  /** Patients given their contact ciphertext (`contact_enc`, stored before it existed). */
  contacts: number;
}

/**
 * `npm run rotate-keys`, as the connecting (owner) user, in all organizations:
 * 1. re-wraps every organization key not under the newest master key (PHI_ENCRYPTION_KEYS' first): one small row per
 *    organization, whatever their size; the patients' keys and the values do not change;
 * 2. converts the values still in the former format (`v<n>:`, before envelope encryption) to the patient's data
 *    key bound to their place, creating the keys patients lack. Once done, later runs find none.
 * 3. fills in the contact ciphertext (`contact_enc`: phone and email in one value, read by the patient list) of the
 *    patients stored before it existed; the list reads their two columns meanwhile.
 * With `reindex`, also recomputes the blind indexes of every patient.
 * Batches by primary key, each one statement: an interrupted run leaves every value readable and the next run
 * carries on. `updated_at` is left alone: the data did not change.
 */
export async function rotateKeys(url: string, keyring: PhiKeyringCore, options: RotationOptions = {}): Promise<RotationResult> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const batchSize = options.batchSize ?? 2000;
  const master = keyring.master;
  try {
    const result: RotationResult = { organizationKeys: await rewrapOrganizationKeys(client, keyring), rows: {}, values: 0, contacts: 0 };
    if (options.rewrapOnly) return result;
    const selects = (table: string, columns: readonly string[]): string =>
      options.reindex && table === 'patients'
        ? 'true'
        : [...columns.map((c) => `${c} ~ ${LEGACY}`), ...(table === 'patients' ? [WITHOUT_CONTACT] : [])].join(' OR ');
    let total = 0;
    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${selects(table, columns)}`);
      total += Number(rows[0].n);
    }
    const items = await client.query<{ n: string }>(`SELECT count(*) AS n FROM fhir_resources WHERE item_enc ~ ${LEGACY}`);
    total += Number(items.rows[0].n);
    options.onProgress?.(0, total);
    let done = 0;
    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      result.rows[table] = 0;
      const owner = table === 'patients' ? 'id' : 'patient_id';
      let last = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const { rows } = await client.query<Record<string, string | null> & { id: string; organization_id: string; owner: string }>(
          `SELECT id, organization_id, ${owner} AS owner, ${columns.join(', ')} FROM ${table}
            WHERE id > $1 AND (${selects(table, columns)}) ORDER BY id LIMIT ${batchSize}`,
          [last],
        );
        if (rows.length === 0) break;
        last = rows[rows.length - 1].id;
        const keys = await keysByOrganization(client, keyring, rows);
        const reindex = options.reindex === true && table === 'patients';
        const updates = rows.map((row) => {
          const key = (keys.get(row.organization_id) as PatientKeys).get(row.owner);
          const out: Record<string, string | null> = { id: row.id };
          const place = (column: string): PhiPlace => ({ table, column, row: row.id });
          for (const c of columns) {
            const value = row[c];
            if (value !== null && /^v[0-9]/.test(value)) {
              out[c] = key.encrypt(key.decrypt(value, place(c)), place(c));
              result.values++;
            } else out[c] = value;
          }
          if (table === 'patients' && row.contact_enc === null && (row.phone_enc !== null || row.email_enc !== null)) {
            try {
              out.contact_enc = encryptContact(key, row.id, key.decrypt(row.phone_enc, place('phone_enc')), key.decrypt(row.email_enc, place('email_enc')));
              result.contacts++;
            } catch (err) {
              // Unreadable (moved or its key destroyed): left without one; the list reads the two columns (as null).
              if (!(err instanceof PhiDecryptError)) throw err;
            }
          }
          if (reindex) {
            const email = key.decrypt(row.email_enc, place('email_enc'));
            const phone = key.decrypt(row.phone_enc, place('phone_enc'));
            out.email_bidx = email === null ? null : master.blindIndex('email', email);
            out.phone_bidx = phone === null ? null : master.blindIndex('phone', phone);
          }
          return out;
        });
        const written = [...columns, ...(reindex ? ['email_bidx', 'phone_bidx'] : [])];
        await client.query(
          `UPDATE ${table} t SET ${written.map((c) => `${c} = x.${c}`).join(', ')}
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, ${written.map((c) => `${c} text`).join(', ')}) WHERE t.id = x.id`,
          [JSON.stringify(updates)],
        );
        result.rows[table] += rows.length;
        done += rows.length;
        options.onProgress?.(done, total);
      }
    }
    result.rows.fhir_resources = 0;
    for (;;) {
      // Medical list items, keyed by (organization, source, type, id) and owned by the patient of their reference.
      const { rows } = await client.query<{
        organization_id: string;
        source: string;
        resource_type: string;
        resource_id: string;
        item_enc: string;
        owner: string;
      }>(
        `SELECT f.organization_id, f.source, f.resource_type, f.resource_id, f.item_enc, p.id AS owner
           FROM fhir_resources f
           JOIN patients p ON p.organization_id = f.organization_id AND p.source = f.source AND p.external_id = f.patient_ref
          WHERE f.item_enc ~ ${LEGACY} LIMIT ${batchSize}`,
      );
      if (rows.length === 0) break;
      const keys = await keysByOrganization(client, keyring, rows);
      const updates = rows.map((r) => {
        const place: PhiPlace = { table: 'fhir_resources', column: 'item_enc', row: `${r.source}/${r.resource_type}/${r.resource_id}` };
        const key = (keys.get(r.organization_id) as PatientKeys).get(r.owner);
        result.values++;
        return { ...r, item_enc: key.encrypt(key.decrypt(r.item_enc, place), place) };
      });
      await client.query(
        `UPDATE fhir_resources f SET item_enc = x.item_enc
           FROM jsonb_to_recordset($1::jsonb) AS x(organization_id uuid, source text, resource_type text, resource_id text, item_enc text)
          WHERE f.organization_id = x.organization_id AND f.source = x.source AND f.resource_type = x.resource_type AND f.resource_id = x.resource_id`,
        [JSON.stringify(updates)],
      );
      result.rows.fhir_resources += rows.length;
      done += rows.length;
      options.onProgress?.(done, total);
    }
    return result;
  } finally {
    await client.end();
  }
}

/** Re-wraps the organization keys that are not under the newest master key; returns how many. */
async function rewrapOrganizationKeys(client: Client, keyring: PhiKeyringCore): Promise<number> {
  const master = keyring.master;
  const { rows } = await client.query<{ organization_id: string; version: number; wrapped_key: string }>(
    `SELECT organization_id, version, wrapped_key FROM organization_keys WHERE wrapped_key NOT LIKE $1`,
    [`${master.currentVersion}:%`],
  );
  for (const r of rows) {
    const aad = organizationKeyAad(r.organization_id, r.version);
    await client.query(`UPDATE organization_keys SET wrapped_key = $3 WHERE organization_id = $1 AND version = $2`, [
      r.organization_id,
      r.version,
      master.wrapKey(master.unwrapKey(r.wrapped_key, aad), aad),
    ]);
  }
  return rows.length;
}

/** The owners' keys (created when they lack one), one look-up per organization of the batch. */
async function keysByOrganization(client: Client, keyring: PhiKeyringCore, rows: { organization_id: string; owner: string }[]): Promise<Map<string, PatientKeys>> {
  const owners = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = owners.get(r.organization_id) ?? new Set<string>();
    set.add(r.owner);
    owners.set(r.organization_id, set);
  }
  const out = new Map<string, PatientKeys>();
  for (const [organizationId, ids] of owners) out.set(organizationId, await keyring.ensureKeys(ownerSql(client, organizationId), ids));
  return out;
}

/** The owner connection as a tenant handle (the owner is not under row-level security; every statement names the organization). */
function ownerSql(client: Client, organizationId: string): TenantSql {
  return {
    organizationId: organizationId.toLowerCase(),
    query: async <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => (await client.query(sql, params as unknown[])).rows as T[],
  };
}
