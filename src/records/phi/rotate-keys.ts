import { Client } from 'pg';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';

/** Every encrypted column, by table. */
export const ENCRYPTED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  patients: ['phone_enc', 'email_enc', 'date_of_birth_enc', 'address_enc', 'conditions_enc', 'allergies_enc', 'medications_enc'],
  appointments: ['notes_enc'],
  communications: ['notes_enc'],
  survey_responses: ['comment_enc'],
};

export interface RotationOptions {
  /** Rows per transaction (default 2,000). */
  batchSize?: number;
  /** Also recompute the email/phone blind indexes (after changing PHI_BLIND_INDEX_KEY). */
  reindex?: boolean;
  /** Called with the rows done so far and the total, once the total is known. */
  onProgress?: (done: number, total: number) => void;
}

export interface RotationResult {
  rows: Record<string, number>;
  values: number;
}

/**
 * Re-encrypts every PHI value not under the newest key, in all organizations, as the connecting (owner) user.
 * Batches of rows in their own transactions, by primary key: an interrupted run leaves values under either key
 * (both still decrypt) and the next run carries on. `updated_at` is left alone: the data did not change.
 */
export async function rotateKeys(url: string, cipher: PhiCipherCore, options: RotationOptions = {}): Promise<RotationResult> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const prefix = `${cipher.currentVersion}:%`;
  const batchSize = options.batchSize ?? 2000;
  const stale = (columns: readonly string[]): string => columns.map((c) => `(${c} IS NOT NULL AND ${c} NOT LIKE $1)`).join(' OR ');
  const selects = (table: string, columns: readonly string[]): string =>
    options.reindex && table === 'patients' ? '$1::text IS NOT NULL' : stale(columns);
  try {
    let total = 0;
    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${selects(table, columns)}`, [prefix]);
      total += Number(rows[0].n);
    }
    options.onProgress?.(0, total);
    const result: RotationResult = { rows: {}, values: 0 };
    let done = 0;
    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      result.rows[table] = 0;
      let last = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const { rows } = await client.query<Record<string, string | null> & { id: string }>(
          `SELECT id, ${columns.join(', ')} FROM ${table} WHERE id > $2 AND (${selects(table, columns)}) ORDER BY id LIMIT ${batchSize}`,
          [prefix, last],
        );
        if (rows.length === 0) break;
        last = rows[rows.length - 1].id;
        const updates = rows.map((row) => {
          const out: Record<string, string | null> = { id: row.id };
          for (const c of columns) {
            if (cipher.needsRotation(row[c])) {
              out[c] = cipher.encrypt(cipher.decrypt(row[c]));
              result.values++;
            } else out[c] = row[c];
          }
          if (options.reindex && table === 'patients') {
            const email = cipher.decrypt(row.email_enc);
            const phone = cipher.decrypt(row.phone_enc);
            out.email_bidx = email === null ? null : cipher.blindIndex('email', email);
            out.phone_bidx = phone === null ? null : cipher.blindIndex('phone', phone);
          }
          return out;
        });
        const written = [...columns, ...(options.reindex && table === 'patients' ? ['email_bidx', 'phone_bidx'] : [])];
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
    return result;
  } finally {
    await client.end();
  }
}
