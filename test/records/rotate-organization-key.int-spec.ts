import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadSettings } from 'src/config/settings';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { seedOrganization } from 'src/demo-data/seed';
import { PhiDecryptError } from 'src/records/phi/phi-cipher';
import { createPhiKeyring } from 'src/records/phi/phi-keyring';
import type { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';
import { ENCRYPTED_COLUMNS } from 'src/records/phi/rotate-keys';
import { OrganizationKeyMissingError, rotateOrganizationKey } from 'src/records/phi/rotate-organization-key';
import { createOrganization } from 'test/auth/auth-fixtures';
import { TEST_NOW } from 'test/utils/test-app';
import { createTestDatabase, TestDatabase } from 'test/utils/test-database';

/**
 * Issue #17: `npm run rotate-keys -- --org <slug> --org-key` replaces one organization's own key: every patient key
 * re-wrapped under a new version (the data keys and the values unchanged), the organization's own values
 * re-encrypted, the old version removed, audited; an interrupted run leaves everything readable and is carried on.
 */
const masterKeys = `v1:${randomBytes(32).toString('base64')}`;
const blind = randomBytes(32).toString('base64');
/** A keyring as a freshly started process has it (nothing cached). */
const freshKeyring = (): PhiKeyringCore => createPhiKeyring(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: masterKeys, PHI_BLIND_INDEX_KEY: blind }));

const tenant = (db: TestDatabase, organizationId: string): TenantSql => ({
  organizationId,
  query: <T>(sql: string, params?: readonly unknown[]) => db.query(sql, params as unknown[]) as Promise<T[]>,
});

/** Every encrypted value of the patients' records and of the organization itself, decrypted, in a stable order. */
async function plaintexts(db: TestDatabase, keyring: PhiKeyringCore, org: string): Promise<string[]> {
  const out: string[] = [];
  for (const [table, columns] of Object.entries(ENCRYPTED_COLUMNS)) {
    const owner = table === 'patients' ? 'id' : 'patient_id';
    const rows = await db.query<Record<string, string | null>>(`SELECT id, ${owner} AS owner, ${columns.join(', ')} FROM ${table} WHERE organization_id = $1 ORDER BY id`, [org]);
    const keys = await keyring.keysFor(tenant(db, org), rows.map((r) => r.owner as string));
    for (const r of rows) {
      for (const c of columns) out.push(`${table}.${c}.${r.id}=${keys.get(r.owner as string).decrypt(r[c], { table, column: c, row: r.id as string })}`);
    }
  }
  const orgKey = await keyring.organizationDataKey(tenant(db, org), false);
  for (const [table, column] of [
    ['stored_files', 'key_wrapped'],
    ['legal_holds', 'reason_enc'],
    ['erasure_receipts', 'reason_enc'],
  ]) {
    const rows = await db.query<{ id: string; value: string }>(`SELECT id, ${column} AS value FROM ${table} WHERE organization_id = $1 ORDER BY id`, [org]);
    for (const r of rows) out.push(`${table}.${r.id}=${orgKey.decrypt(r.value, { table, column, row: r.id })}`);
  }
  return out;
}

/** The organization's own values (`o1:`): a stored file's key, a legal hold's reason and an erasure receipt's reason. */
async function organizationValues(db: TestDatabase, keyring: PhiKeyringCore, org: string, n: number): Promise<void> {
  const orgKey = await keyring.organizationDataKey(tenant(db, org), true);
  for (let i = 0; i < n; i++) {
    const file = randomUUID();
    await db.query(
      `INSERT INTO stored_files (id, organization_id, name, content_type, status, key_wrapped) VALUES ($1, $2, 'x.ndjson', 'application/x-ndjson', 'complete', $3)`,
      [file, org, orgKey.encrypt(randomBytes(32).toString('base64'), { table: 'stored_files', column: 'key_wrapped', row: file })],
    );
    const hold = randomUUID();
    await db.query(`INSERT INTO legal_holds (organization_id, id, all_patients, reason_enc, created_at, created_by) VALUES ($1, $2, true, $3, now(), 'test')`, [
      org,
      hold,
      orgKey.encrypt(`Litigation ${i}`, { table: 'legal_holds', column: 'reason_enc', row: hold }),
    ]);
    const receipt = randomUUID();
    await db.query(
      `INSERT INTO erasure_receipts (organization_id, id, erased_patient_id, basis, reason_enc, erased_at, records_deleted, erased_by) VALUES ($1, $2, $3, 'other', $4, now(), '{}', 'test')`,
      [org, receipt, randomUUID(), orgKey.encrypt(`Asked in writing ${i}`, { table: 'erasure_receipts', column: 'reason_enc', row: receipt })],
    );
  }
}

const versions = async (db: TestDatabase, org: string): Promise<number[]> =>
  (await db.query<{ version: number }>(`SELECT version FROM organization_keys WHERE organization_id = $1 ORDER BY version`, [org])).map((r) => r.version);
const kekVersions = async (db: TestDatabase, org: string): Promise<Record<number, number>> =>
  Object.fromEntries(
    (await db.query<{ v: number; n: number }>(`SELECT kek_version AS v, count(*)::int AS n FROM patient_keys WHERE organization_id = $1 GROUP BY 1`, [org])).map((r) => [r.v, r.n]),
  );

describe('rotateOrganizationKey', () => {
  const dbs: TestDatabase[] = [];
  const seeded = async (): Promise<{ db: TestDatabase; org: string; other: string }> => {
    const db = await createTestDatabase();
    dbs.push(db);
    const seeder = freshKeyring();
    const result = await seedOrganization(db.url, { slug: 'rot', name: 'Rot', patients: 60, seed: 3, now: TEST_NOW, cipher: seeder.master });
    const other = await seedOrganization(db.url, { slug: 'other', name: 'Other', patients: 10, seed: 4, now: TEST_NOW, cipher: seeder.master });
    await organizationValues(db, seeder, result.organizationId, 3);
    return { db, org: result.organizationId, other: other.organizationId };
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('re-wraps every patient key under a new version, re-encrypts the organization values, removes the old version, audits without PHI', async () => {
    const { db, org, other } = await seeded();
    const before = await plaintexts(db, freshKeyring(), org);
    expect(before.filter((v) => !v.endsWith('=null')).length).toBeGreaterThan(300);
    expect(before.filter((v) => v.startsWith('legal_holds.')).map((v) => v.split('=')[1])).toEqual(expect.arrayContaining(['Litigation 0', 'Litigation 2']));
    const wrappedBefore = await db.query<{ patient_id: string; wrapped_key: Buffer }>(`SELECT patient_id, wrapped_key FROM patient_keys WHERE organization_id = $1 ORDER BY patient_id`, [org]);
    const patientsBefore = await db.query(`SELECT id, phone_enc, email_enc, conditions_enc FROM patients WHERE organization_id = $1 ORDER BY id`, [org]);
    const holdsBefore = await db.query<{ reason_enc: string }>(`SELECT reason_enc FROM legal_holds WHERE organization_id = $1 ORDER BY id`, [org]);
    const otherKeys = await db.query(`SELECT * FROM organization_keys WHERE organization_id = $1`, [other]);
    const otherPatientKeys = await db.query(`SELECT patient_id, wrapped_key, kek_version FROM patient_keys WHERE organization_id = $1 ORDER BY patient_id`, [other]);
    const progress: [number, number][] = [];

    const result = await rotateOrganizationKey(db.url, freshKeyring(), org, { batchSize: 25, onProgress: (d, t) => void progress.push([d, t]) });

    expect(result).toEqual({ version: 2, removed: [1], resumed: false, patientKeys: 60, organizationValues: 9 });
    expect(progress).toEqual([
      [0, 60],
      [25, 60],
      [50, 60],
      [60, 60],
      [60, 60],
    ]);
    expect(await versions(db, org)).toEqual([2]);
    expect(await kekVersions(db, org)).toEqual({ 2: 60 });
    // Every wrapped key is new; the values themselves did not change.
    const wrappedAfter = await db.query<{ patient_id: string; wrapped_key: Buffer }>(`SELECT patient_id, wrapped_key FROM patient_keys WHERE organization_id = $1 ORDER BY patient_id`, [org]);
    expect(wrappedAfter.map((r) => r.patient_id)).toEqual(wrappedBefore.map((r) => r.patient_id));
    expect(wrappedAfter.filter((r, i) => r.wrapped_key.equals(wrappedBefore[i].wrapped_key))).toEqual([]);
    expect(await db.query(`SELECT id, phone_enc, email_enc, conditions_enc FROM patients WHERE organization_id = $1 ORDER BY id`, [org])).toEqual(patientsBefore);
    const holdsAfter = await db.query<{ reason_enc: string }>(`SELECT reason_enc FROM legal_holds WHERE organization_id = $1 ORDER BY id`, [org]);
    expect(holdsAfter.filter((r, i) => r.reason_enc === holdsBefore[i].reason_enc)).toEqual([]);
    // A process started now reads every value as before, with version 2 only.
    expect(await plaintexts(db, freshKeyring(), org)).toEqual(before);
    // The other organization is untouched.
    expect(await db.query(`SELECT * FROM organization_keys WHERE organization_id = $1`, [other])).toEqual(otherKeys);
    expect(await db.query(`SELECT patient_id, wrapped_key, kek_version FROM patient_keys WHERE organization_id = $1 ORDER BY patient_id`, [other])).toEqual(otherPatientKeys);

    const events = await db.query<{ action: string; resource: string; patient_ids: string[]; query: Record<string, string>; actor_role: string }>(
      `SELECT action, resource, patient_ids, query, actor_role FROM audit_events WHERE organization_id = $1 AND resource = 'organization_key' ORDER BY seq`,
      [org],
    );
    expect(events).toEqual([
      { action: 'create', resource: 'organization_key', patient_ids: [], actor_role: 'system', query: { organization_key_version: '2', step: 'started' } },
      {
        action: 'update',
        resource: 'organization_key',
        patient_ids: [],
        actor_role: 'system',
        query: { organization_key_version: '2', removed_versions: '1', patient_keys_rewrapped: '60', organization_values_reencrypted: '9', step: 'completed' },
      },
    ]);

    // Again: version 3, and still the same values.
    expect(await rotateOrganizationKey(db.url, freshKeyring(), org)).toEqual({ version: 3, removed: [2], resumed: false, patientKeys: 60, organizationValues: 9 });
    expect(await plaintexts(db, freshKeyring(), org)).toEqual(before);
  });

  it('interrupted midway: every value still reads, writers use the new version, and a second run carries on to the end', async () => {
    const { db, org } = await seeded();
    const before = await plaintexts(db, freshKeyring(), org);
    // A running app's keyring, its organization keys cached (version 1) before the rotation starts.
    const app = freshKeyring();
    expect((await app.organizationDataKey(tenant(db, org), true)).available).toBe(true);

    const stop = new Error('interrupted');
    await expect(
      rotateOrganizationKey(db.url, freshKeyring(), org, {
        batchSize: 25,
        onProgress: (done) => {
          if (done === 25) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(await versions(db, org)).toEqual([1, 2]);
    expect(await kekVersions(db, org)).toEqual({ 1: 35, 2: 25 });
    // Both versions are there: a fresh process and the running app read everything.
    expect(await plaintexts(db, freshKeyring(), org)).toEqual(before);
    expect(await plaintexts(db, app, org)).toEqual(before);

    // The running app writes under the new version from now on: a new patient's key, a new hold reason.
    const [{ id: newPatient }] = await db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', 'new-1', 'New Patient') RETURNING id`,
      [org],
    );
    const pending = await app.newKeys(tenant(db, org), [newPatient]);
    await pending.save();
    expect(await db.query(`SELECT kek_version FROM patient_keys WHERE patient_id = $1`, [newPatient])).toEqual([{ kek_version: 2 }]);
    const holdKey = await app.organizationDataKey(tenant(db, org), true);
    const hold = randomUUID();
    await db.query(`INSERT INTO legal_holds (organization_id, id, all_patients, reason_enc, created_at, created_by) VALUES ($1, $2, true, $3, now(), 'test')`, [
      org,
      hold,
      holdKey.encrypt('Written mid-rotation', { table: 'legal_holds', column: 'reason_enc', row: hold }),
    ]);

    const result = await rotateOrganizationKey(db.url, freshKeyring(), org, { batchSize: 25 });
    expect(result).toEqual({ version: 2, removed: [1], resumed: true, patientKeys: 35, organizationValues: 9 });
    expect(await versions(db, org)).toEqual([2]);
    expect(await kekVersions(db, org)).toEqual({ 2: 61 });
    const after = await plaintexts(db, freshKeyring(), org);
    expect(after).toEqual(expect.arrayContaining([...before, `legal_holds.${hold}=Written mid-rotation`]));
    // The new patient's encrypted columns (empty) and the new hold.
    expect(after).toHaveLength(before.length + ENCRYPTED_COLUMNS.patients.length + 1);
    // The running app, whose cache still held version 1, reads on (it reloads the versions it does not know).
    expect(await plaintexts(db, app, org)).toEqual(after);
  });

  it('a transaction writing under the old version when the rotation starts: the rotation waits for it, then moves its key too', async () => {
    const { db, org } = await seeded();
    const app = freshKeyring();
    const writer = new Client({ connectionString: db.url });
    await writer.connect();
    try {
      const sql: TenantSql = { organizationId: org, query: async <T>(text: string, params?: readonly unknown[]) => (await writer.query(text, params as unknown[])).rows as T[] };
      await writer.query('BEGIN');
      const [{ id }] = await sql.query<{ id: string }>(`INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', 'late-1', 'Late Patient') RETURNING id`, [org]);
      const pending = await app.newKeys(sql, [id]);
      const value = pending.keys.get(id).encrypt('+1 555 0100', { table: 'patients', column: 'phone_enc', row: id });
      await sql.query(`UPDATE patients SET phone_enc = $2 WHERE id = $1`, [id, value]);
      await pending.save();
      expect(await sql.query(`SELECT kek_version FROM patient_keys WHERE patient_id = $1`, [id])).toEqual([{ kek_version: 1 }]);
      let finished = false;
      const rotation = rotateOrganizationKey(db.url, freshKeyring(), org).then((r) => {
        finished = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(finished).toBe(false); // waiting for the writer's transaction
      await writer.query('COMMIT');
      expect(await rotation).toMatchObject({ version: 2, removed: [1], patientKeys: 61 });
      expect(await kekVersions(db, org)).toEqual({ 2: 61 });
      const keys = await freshKeyring().keysFor(tenant(db, org), [id]);
      expect(keys.get(id).decrypt(value, { table: 'patients', column: 'phone_enc', row: id })).toBe('+1 555 0100');
    } finally {
      await writer.end();
    }
  });

  it('an organization without a key has nothing to rotate; a value under a removed version no longer decrypts', async () => {
    const { db, org } = await seeded();
    const empty = await createOrganization(db);
    await expect(rotateOrganizationKey(db.url, freshKeyring(), empty.id)).rejects.toBeInstanceOf(OrganizationKeyMissingError);
    const old = await freshKeyring().organizationDataKey(tenant(db, org), false);
    const place = { table: 'legal_holds', column: 'reason_enc', row: randomUUID() };
    const stale = old.encrypt('under version 1', place);
    await rotateOrganizationKey(db.url, freshKeyring(), org);
    const now = await freshKeyring().organizationDataKey(tenant(db, org), false);
    expect(() => now.decrypt(stale, place)).toThrow(PhiDecryptError);
  });
});
