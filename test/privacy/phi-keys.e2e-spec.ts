import { Logger } from '@nestjs/common';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createTestApp, TestApp } from 'test/utils/test-app';

const SRC = 'ehr';
const patient = (id: string, email: string, phone: string): Record<string, unknown> => ({
  record_type: 'patient',
  source: SRC,
  external_id: id,
  name: `Patient ${id}`,
  email,
  phone,
  date_of_birth: '1984-03-09',
  address: { street: '12 Harbor Street', city: 'Portland', state: 'OR', zip: '97201' },
  conditions: ['Asthma'],
});

/**
 * Envelope encryption on the real database (docs/privacy.md, "Keys"): values written through ingestion are under
 * the patient's own key and bound to their place; a value copied into another patient's row does not reveal
 * anything (the field reads as null, logged without PHI); destroying a patient's key makes their values unreadable.
 */
describe('PHI keys: place binding and crypto-shredding', () => {
  let t: TestApp;
  let org: string;
  let token: string;
  const ids: Record<string, string> = {};
  const profile = async (id: string): Promise<{ status: number; body: any }> => {
    const res = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profile/${id}`, headers: bearer(token) });
    return { status: res.statusCode, body: res.json() };
  };

  beforeAll(async () => {
    t = await createTestApp();
    org = (await createOrganization(t.db)).id;
    token = await memberToken(t, org, 'admin');
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(token),
      payload: {
        records: [
          patient('alice', 'alice@example.test', '+1 503 555 0101'),
          patient('bob', 'bob@example.test', '+1 503 555 0102'),
          patient('carol', 'carol@example.test', '+1 503 555 0103'),
          {
            record_type: 'appointment',
            source: SRC,
            external_id: 'a1',
            patient_external_id: 'carol',
            starts_at: '2026-11-20T09:30:00Z',
            type: 'Check-up',
            status: 'completed',
            value: 80,
            notes: 'Carol note',
          },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    for (const r of res.json().results) if (r.record_type === 'patient') ids[r.external_id] = r.id;
  });
  afterAll(() => t.close());

  it('stores one key per patient and every value in the new format (p1:), none under the master key', async () => {
    const keys = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_keys WHERE organization_id = $1`, [org]);
    expect(keys).toEqual([{ n: 3 }]);
    const orgKeys = await t.db.query<{ version: number }>(`SELECT version FROM organization_keys WHERE organization_id = $1`, [org]);
    expect(orgKeys).toEqual([{ version: 1 }]);
    const values = await t.db.query<{ email_enc: string; phone_enc: string; contact_enc: string }>(
      `SELECT email_enc, phone_enc, contact_enc FROM patients WHERE organization_id = $1 ORDER BY external_id`,
      [org],
    );
    expect(values.map((v) => [v.email_enc.slice(0, 3), v.phone_enc.slice(0, 3), v.contact_enc.slice(0, 3)])).toEqual([
      ['p1:', 'p1:', 'p1:'],
      ['p1:', 'p1:', 'p1:'],
      ['p1:', 'p1:', 'p1:'],
    ]);
    const alice = await profile(ids.alice);
    expect(alice.status).toBe(200);
    expect([alice.body.patient.email, alice.body.patient.phone, alice.body.patient.address.city]).toEqual([
      'alice@example.test',
      '+1 503 555 0101',
      'Portland',
    ]);
  });

  it("a value copied into another patient's row reads as unavailable (null, 200), never as the other person's data, and is logged without PHI", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      await t.db.query(
        `UPDATE patients b SET email_enc = a.email_enc, phone_enc = a.phone_enc, contact_enc = a.contact_enc
           FROM patients a WHERE a.organization_id = $1 AND a.id = $2 AND b.organization_id = $1 AND b.id = $3`,
        [org, ids.alice, ids.bob],
      );
      const bob = await profile(ids.bob);
      expect(bob.status).toBe(200);
      expect(bob.body.patient.email).toBeNull();
      expect(bob.body.patient.phone).toBeNull();
      // What was not moved still reads.
      expect(bob.body.patient.address.city).toBe('Portland');
      const list = await t.inject({ method: 'GET', url: `/api/v1/patients/${org}/profiles?limit=10&sort=name`, headers: bearer(token) });
      expect(list.statusCode).toBe(200);
      const rows = list.json().patients as { id: string; email: string | null }[];
      expect(rows.map((r) => r.email)).toEqual(['alice@example.test', null, 'carol@example.test']);
      const logged = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.startsWith('Unreadable PHI value'));
      expect(logged.length).toBeGreaterThanOrEqual(2);
      expect(logged.some((m) => m.includes(`patients.email_enc of row ${ids.bob}`))).toBe(true);
      // The list reads phone and email from the contact ciphertext (one decryption per row), bound to its place too.
      expect(logged.some((m) => m.includes(`patients.contact_enc of row ${ids.bob}`))).toBe(true);
      // Ids out first: a random UUID may hold the digits 555 (seen in CI), which says nothing about a phone number.
      const withoutIds = logged.map((m) => m.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>'));
      expect(withoutIds.filter((m) => m.includes('alice') || m.includes('555'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it("a patient's destroyed key (crypto-shredding) leaves their stored ciphertext unreadable", async () => {
    const [before] = await t.db.query<{ notes_enc: string; id: string }>(
      `SELECT id, notes_enc FROM appointments WHERE organization_id = $1`,
      [org],
    );
    const carol = await profile(ids.carol);
    expect(carol.body.patient.engagement_metrics.appointment_history.map((a: { notes: string }) => a.notes)).toEqual(['Carol note']);
    await t.db.query(`DELETE FROM patient_keys WHERE organization_id = $1 AND patient_id = $2`, [org, ids.carol]);
    // The erasure drops the key from the process too (PhiKeyring.forget); another process never had it.
    t.app.get(PhiKeyring).forget(org, [ids.carol]);
    const after = await profile(ids.carol);
    expect(after.status).toBe(200);
    expect([after.body.patient.email, after.body.patient.phone, after.body.patient.address]).toEqual([null, null, null]);
    expect(after.body.patient.engagement_metrics.appointment_history.map((a: { notes: string | null }) => a.notes)).toEqual([null]);
    // The ciphertext itself is untouched (as in a backup): it is the key that is gone.
    const [still] = await t.db.query<{ notes_enc: string }>(`SELECT notes_enc FROM appointments WHERE id = $1`, [before.id]);
    expect(still.notes_enc).toBe(before.notes_enc);
  });

  it("another organization's handle sees none of these keys (organization filter and row-level security)", async () => {
    const other = (await createOrganization(t.db)).id;
    const seen = await t.app.get(TenantDb).statements(other, async (db) => ({
      rows: await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM patient_keys`),
      orgKeys: await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM organization_keys`),
      keys: await t.app.get(PhiKeyring).keysFor(db, [ids.alice, ids.bob]),
    }));
    expect([seen.rows, seen.orgKeys]).toEqual([[{ n: 0 }], [{ n: 0 }]]);
    expect([seen.keys.size, seen.keys.get(ids.alice).available]).toEqual([0, false]);
  });

  it('re-sending the same records leaves them unchanged (compared on plaintext under each patient key)', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/ingest/${org}/records`,
      headers: bearer(token),
      payload: { records: [patient('alice', 'alice@example.test', '+1 503 555 0101')] },
    });
    expect(res.json().results.map((r: { status: string }) => r.status)).toEqual(['unchanged']);
  });
});
