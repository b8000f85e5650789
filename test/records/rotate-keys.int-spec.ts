import { randomBytes } from 'node:crypto';
import { loadSettings } from 'src/config/settings';
import { seedOrganization } from 'src/demo-data/seed';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { ENCRYPTED_COLUMNS, rotateKeys } from 'src/records/phi/rotate-keys';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const b1 = randomBytes(32).toString('base64');
const b2 = randomBytes(32).toString('base64');
const cipherWith = (keys: string, bidx: string): ReturnType<typeof createPhiCipher> =>
  createPhiCipher(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: keys, PHI_BLIND_INDEX_KEY: bidx }));

/** Per encrypted column: values in all, and values under each key version (`v1:`, `v2:`). */
async function versions(db: TestDatabase): Promise<Record<string, { values: number; v1: number; v2: number }>> {
  const out: Record<string, { values: number; v1: number; v2: number }> = {};
  for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
    for (const c of columns) {
      const [r] = await db.query<{ values: number; v1: number; v2: number }>(
        `SELECT count(${c})::int AS values, count(*) FILTER (WHERE ${c} LIKE 'v1:%')::int AS v1, count(*) FILTER (WHERE ${c} LIKE 'v2:%')::int AS v2 FROM ${table}`,
      );
      out[`${table}.${c}`] = r;
    }
  }
  return out;
}

/** Each test on a database of its own, seeded under key v1 (60 patients with their records). */
describe('rotateKeys', () => {
  const old = cipherWith(`v1:${k1}`, b1);
  const dbs: TestDatabase[] = [];
  const seeded = async (): Promise<TestDatabase> => {
    const db = await createTestDatabase();
    dbs.push(db);
    await seedOrganization(db.url, { slug: 'rot', name: 'Rot', patients: 60, seed: 2, now: TEST_NOW, cipher: old });
    return db;
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('re-encrypts every value under the newest key, keeps the plaintext, and has nothing left to do afterwards', async () => {
    const db = await seeded();
    const before = await versions(db);
    // Every encrypted column holds values to rotate (a column of NULLs would pass the checks below without a rotation).
    const empty = Object.entries(before).filter(([, n]) => n.values === 0 || n.v1 !== n.values);
    expect(empty).toEqual([]);
    const patientsBefore = await db.query<{ id: string; email_enc: string; conditions_enc: string | null }>(`SELECT id, email_enc, conditions_enc FROM patients ORDER BY id`);
    const [{ notes }] = await db.query<{ notes: string }>(`SELECT count(notes_enc) AS notes FROM appointments`);

    const rotated = cipherWith(`v2:${k2},v1:${k1}`, b1);
    const progress: number[] = [];
    const result = await rotateKeys(db.url, rotated, { batchSize: 25, onProgress: (done) => progress.push(done) });
    expect(result.rows.patients).toBe(60);
    expect(result.rows.appointments).toBe(Number(notes));
    expect(result.values).toBe(Object.values(before).reduce((n, c) => n + c.values, 0));
    expect(progress[progress.length - 1]).toBe(Object.values(result.rows).reduce((a, b) => a + b, 0));

    // As many values as before in every column, all of them under v2 now.
    const after = await versions(db);
    expect(after).toEqual(Object.fromEntries(Object.entries(before).map(([k, n]) => [k, { values: n.values, v1: 0, v2: n.values }])));
    const patientsAfter = await db.query<{ id: string; email_enc: string; conditions_enc: string | null }>(`SELECT id, email_enc, conditions_enc FROM patients ORDER BY id`);
    const v2only = cipherWith(`v2:${k2}`, b1);
    expect(patientsAfter.map((r) => v2only.decrypt(r.email_enc))).toEqual(patientsBefore.map((r) => old.decrypt(r.email_enc)));
    expect(patientsAfter.map((r) => v2only.decrypt(r.conditions_enc))).toEqual(patientsBefore.map((r) => old.decrypt(r.conditions_enc)));

    const again = await rotateKeys(db.url, rotated);
    expect(again.values).toBe(0);
  });

  it('recomputes blind indexes with --reindex', async () => {
    const db = await seeded();
    const cipher = cipherWith(`v2:${k2},v1:${k1}`, b2);
    const stale = await db.query<{ email_enc: string; email_bidx: string }>(`SELECT email_enc, email_bidx FROM patients`);
    expect(stale.filter((r) => r.email_bidx === cipher.blindIndex('email', cipher.decrypt(r.email_enc)!))).toEqual([]);
    await rotateKeys(db.url, cipher, { reindex: true });
    const rows = await db.query<{ email_enc: string; email_bidx: string }>(`SELECT email_enc, email_bidx FROM patients`);
    expect(rows).toHaveLength(60);
    expect(rows.filter((r) => r.email_bidx !== cipher.blindIndex('email', cipher.decrypt(r.email_enc)!))).toEqual([]);
  });
});
