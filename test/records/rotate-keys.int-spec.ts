import { randomBytes } from 'node:crypto';
import { loadSettings } from 'src/config/settings';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { seedOrganization } from 'src/demo-data/seed';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import type { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';
import { ENCRYPTED_COLUMNS, rotateKeys } from 'src/records/phi/rotate-keys';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const b1 = randomBytes(32).toString('base64');
const b2 = randomBytes(32).toString('base64');
const keyringWith = (keys: string, bidx: string): PhiKeyringCore =>
  createPhiKeyring(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: keys, PHI_BLIND_INDEX_KEY: bidx }));

const tenant = (db: TestDatabase, organizationId: string): TenantSql => ({
  organizationId,
  query: <T>(sql: string, params?: readonly unknown[]) => db.query(sql, params as unknown[]) as Promise<T[]>,
});

/** Every encrypted value of the organization, decrypted with `keyring` (place by place), in a stable order. */
async function plaintexts(db: TestDatabase, keyring: PhiKeyringCore, organizationId: string): Promise<string[]> {
  const out: string[] = [];
  for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
    const owner = table === 'patients' ? 'id' : 'patient_id';
    const rows = await db.query<Record<string, string | null>>(`SELECT id, ${owner} AS owner, ${columns.join(', ')} FROM ${table} ORDER BY id`);
    const keys = await keyring.keysFor(tenant(db, organizationId), rows.map((r) => r.owner as string));
    for (const r of rows) {
      for (const c of columns) out.push(`${table}.${c}.${r.id}=${keys.get(r.owner as string).decrypt(r[c], { table, column: c, row: r.id as string })}`);
    }
  }
  return out;
}

/** Each test on a database of its own, seeded under master key v1 (60 patients with their records). */
describe('rotateKeys', () => {
  const old = keyringWith(`v1:${k1}`, b1);
  const dbs: TestDatabase[] = [];
  const seeded = async (): Promise<{ db: TestDatabase; org: string }> => {
    const db = await createTestDatabase();
    dbs.push(db);
    const result = await seedOrganization(db.url, { slug: 'rot', name: 'Rot', patients: 60, seed: 2, now: TEST_NOW, cipher: old.master });
    return { db, org: result.organizationId };
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('a new master key re-wraps the organization key only: patient keys and values stay as they are and still decrypt', async () => {
    const { db, org } = await seeded();
    const before = await plaintexts(db, old, org);
    expect(before.filter((v) => !v.endsWith('=null')).length).toBeGreaterThan(300);
    const values = await db.query(`SELECT id, phone_enc, email_enc, conditions_enc FROM patients ORDER BY id`);
    const patientKeys = await db.query(`SELECT patient_id, wrapped_key FROM patient_keys ORDER BY patient_id`);
    expect(patientKeys).toHaveLength(60);

    const rotated = keyringWith(`v2:${k2},v1:${k1}`, b1);
    const result = await rotateKeys(db.url, rotated, { batchSize: 25 });
    expect(result).toEqual({ organizationKeys: 1, values: 0, contacts: 0, rows: { patients: 0, appointments: 0, communications: 0, survey_responses: 0, consent_decisions: 0, fhir_resources: 0 } });
    const [orgKey] = await db.query<{ wrapped_key: string }>(`SELECT wrapped_key FROM organization_keys`);
    expect(orgKey.wrapped_key.startsWith('v2:')).toBe(true);
    expect(await db.query(`SELECT id, phone_enc, email_enc, conditions_enc FROM patients ORDER BY id`)).toEqual(values);
    expect(await db.query(`SELECT patient_id, wrapped_key FROM patient_keys ORDER BY patient_id`)).toEqual(patientKeys);

    // The new master key alone reads everything; the old one alone no longer opens the organization key.
    expect(await plaintexts(db, keyringWith(`v2:${k2}`, b1), org)).toEqual(before);
    await expect(plaintexts(db, keyringWith(`v1:${k1}`, b1), org)).rejects.toThrow(PhiDecryptError);
    expect((await rotateKeys(db.url, rotated)).organizationKeys).toBe(0);
  });

  it('converts values of the former format (v<n>:, no patient key) to patient keys bound to their place', async () => {
    const { db, org } = await seeded();
    const before = await plaintexts(db, old, org);
    // Ten patients as they were before envelope encryption: values under the master key itself, no patient key.
    const ten = (await db.query<{ id: string }>(`SELECT id FROM patients ORDER BY id LIMIT 10`)).map((r) => r.id);
    const keys = await old.keysFor(tenant(db, org), ten);
    let legacy = 0;
    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      const owner = table === 'patients' ? 'id' : 'patient_id';
      const rows = await db.query<Record<string, string | null>>(`SELECT id, ${owner} AS owner, ${columns.join(', ')} FROM ${table} WHERE ${owner} = ANY($1::uuid[])`, [ten]);
      for (const r of rows) {
        for (const c of columns) {
          const plain = keys.get(r.owner as string).decrypt(r[c], { table, column: c, row: r.id as string });
          if (plain === null) continue;
          await db.query(`UPDATE ${table} SET ${c} = $2 WHERE id = $1`, [r.id, old.master.encrypt(plain)]);
          legacy++;
        }
      }
    }
    await db.query(`DELETE FROM patient_keys WHERE patient_id = ANY($1::uuid[])`, [ten]);
    expect(legacy).toBeGreaterThan(30);
    // Former-format values read as they are until converted.
    expect(await plaintexts(db, keyringWith(`v1:${k1}`, b1), org)).toEqual(before);

    const result = await rotateKeys(db.url, keyringWith(`v1:${k1}`, b1), { batchSize: 7 });
    expect(result.values).toBe(legacy);
    expect(result.rows.patients).toBe(10);
    const left = await db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM patients WHERE phone_enc ~ '^v[0-9]' OR email_enc ~ '^v[0-9]' OR address_enc ~ '^v[0-9]')::int
            + (SELECT count(*) FROM appointments WHERE notes_enc ~ '^v[0-9]')::int AS n`,
    );
    expect(left[0].n).toBe(0);
    expect(await db.query(`SELECT count(*)::int AS n FROM patient_keys`)).toEqual([{ n: 60 }]);
    expect(await plaintexts(db, keyringWith(`v1:${k1}`, b1), org)).toEqual(before);
    expect((await rotateKeys(db.url, keyringWith(`v1:${k1}`, b1))).values).toBe(0);
  });

  it("gives patients stored before the contact ciphertext theirs (phone and email in one value, bound to its place), once", async () => {
    const { db, org } = await seeded();
    const keyring = keyringWith(`v1:${k1}`, b1);
    const contacts = async (): Promise<{ id: string; contact: unknown; phone: string | null; email: string | null }[]> => {
      const rows = await db.query<{ id: string; contact_enc: string | null; phone_enc: string | null; email_enc: string | null }>(
        `SELECT id, contact_enc, phone_enc, email_enc FROM patients ORDER BY id`,
      );
      const keys = await keyring.keysFor(tenant(db, org), rows.map((r) => r.id));
      return rows.map((r) => {
        const key = keys.get(r.id);
        const at = (column: string): { table: string; column: string; row: string } => ({ table: 'patients', column, row: r.id });
        return {
          id: r.id,
          contact: key.decryptJson(r.contact_enc, at('contact_enc')),
          phone: key.decrypt(r.phone_enc, at('phone_enc')),
          email: key.decrypt(r.email_enc, at('email_enc')),
        };
      });
    };
    // The seed writes it with phone and email.
    const seededContacts = await contacts();
    expect(seededContacts).toHaveLength(60);
    expect(seededContacts.filter((c) => JSON.stringify(c.contact) !== JSON.stringify({ phone: c.phone, email: c.email }))).toEqual([]);
    // Twelve patients as stored before the column existed; one of them also without an email.
    const twelve = (await db.query<{ id: string }>(`SELECT id FROM patients ORDER BY id LIMIT 12`)).map((r) => r.id);
    await db.query(`UPDATE patients SET contact_enc = NULL WHERE id = ANY($1::uuid[])`, [twelve]);
    await db.query(`UPDATE patients SET email_enc = NULL WHERE id = $1`, [twelve[0]]);

    const result = await rotateKeys(db.url, keyring, { batchSize: 5 });
    expect([result.contacts, result.values, result.rows.patients]).toEqual([12, 0, 12]);
    const after = await contacts();
    expect(after.filter((c) => JSON.stringify(c.contact) !== JSON.stringify({ phone: c.phone, email: c.email }))).toEqual([]);
    expect(after.find((c) => c.id === twelve[0])?.contact).toEqual({ phone: seededContacts.find((c) => c.id === twelve[0])?.phone, email: null });
    // Bound to its own place: the contact ciphertext does not read as another column of the same row.
    const [row] = await db.query<{ contact_enc: string }>(`SELECT contact_enc FROM patients WHERE id = $1`, [twelve[1]]);
    const key = (await keyring.keysFor(tenant(db, org), [twelve[1]])).get(twelve[1]);
    expect(() => key.decrypt(row.contact_enc, { table: 'patients', column: 'phone_enc', row: twelve[1] })).toThrow(PhiDecryptError);
    expect((await rotateKeys(db.url, keyring)).contacts).toBe(0);
  });

  it('recomputes blind indexes with --reindex', async () => {
    const { db, org } = await seeded();
    const keyring = keyringWith(`v2:${k2},v1:${k1}`, b2);
    const emails = async (): Promise<{ email: string; bidx: string }[]> => {
      const rows = await db.query<{ id: string; email_enc: string; email_bidx: string }>(`SELECT id, email_enc, email_bidx FROM patients`);
      const keys = await keyring.keysFor(tenant(db, org), rows.map((r) => r.id));
      return rows.map((r) => ({ email: keys.get(r.id).decrypt(r.email_enc, { table: 'patients', column: 'email_enc', row: r.id }) as string, bidx: r.email_bidx }));
    };
    expect((await emails()).filter((r) => r.bidx === keyring.blindIndex('email', r.email))).toEqual([]);
    await rotateKeys(db.url, keyring, { reindex: true });
    const rows = await emails();
    expect(rows).toHaveLength(60);
    expect(rows.filter((r) => r.bidx !== keyring.blindIndex('email', r.email))).toEqual([]);
  });
});
