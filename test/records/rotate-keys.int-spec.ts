import { randomBytes } from 'node:crypto';
import { loadSettings } from 'src/config/settings';
import { seedOrganization } from 'src/database/seed/seed';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { ENCRYPTED_COLUMNS, rotateKeys } from 'src/records/phi/rotate-keys';
import { TEST_NOW } from '../utils/test-app';
import { createTestDatabase, TestDatabase } from '../utils/test-database';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const b1 = randomBytes(32).toString('base64');
const b2 = randomBytes(32).toString('base64');
const cipherWith = (keys: string, bidx: string): ReturnType<typeof createPhiCipher> =>
  createPhiCipher(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: keys, PHI_BLIND_INDEX_KEY: bidx }));

describe('rotateKeys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('re-encrypts every value under the newest key, keeps the plaintext, and has nothing left to do afterwards', async () => {
    const old = cipherWith(`v1:${k1}`, b1);
    await seedOrganization(db.url, { slug: 'rot', name: 'Rot', patients: 60, seed: 2, now: TEST_NOW, cipher: old });
    const before = await db.query<{ id: string; email_enc: string; conditions_enc: string | null }>(`SELECT id, email_enc, conditions_enc FROM patients ORDER BY id`);
    const [{ notes }] = await db.query<{ notes: string }>(`SELECT count(notes_enc) AS notes FROM appointments`);

    const rotated = cipherWith(`v2:${k2},v1:${k1}`, b1);
    const progress: number[] = [];
    const result = await rotateKeys(db.url, rotated, { batchSize: 25, onProgress: (done) => progress.push(done) });
    expect(result.rows.patients).toBe(60);
    expect(result.rows.appointments).toBe(Number(notes));
    expect(progress[progress.length - 1]).toBe(Object.values(result.rows).reduce((a, b) => a + b, 0));

    for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
      const [left] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${columns.map((c) => `${c} NOT LIKE 'v2:%'`).join(' OR ')}`);
      expect(left.n).toBe('0');
    }
    const after = await db.query<{ id: string; email_enc: string; conditions_enc: string | null }>(`SELECT id, email_enc, conditions_enc FROM patients ORDER BY id`);
    const v2only = cipherWith(`v2:${k2}`, b1);
    expect(after.map((r) => v2only.decrypt(r.email_enc))).toEqual(before.map((r) => old.decrypt(r.email_enc)));
    expect(after.map((r) => v2only.decrypt(r.conditions_enc))).toEqual(before.map((r) => old.decrypt(r.conditions_enc)));

    const again = await rotateKeys(db.url, rotated);
    expect(again.values).toBe(0);
  });

  it('recomputes blind indexes with --reindex', async () => {
    const cipher = cipherWith(`v2:${k2},v1:${k1}`, b2);
    await rotateKeys(db.url, cipher, { reindex: true });
    const rows = await db.query<{ email_enc: string; email_bidx: string }>(`SELECT email_enc, email_bidx FROM patients`);
    expect(rows).toHaveLength(60);
    for (const r of rows) expect(r.email_bidx).toBe(cipher.blindIndex('email', cipher.decrypt(r.email_enc)!));
  });
});
