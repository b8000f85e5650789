import { randomBytes } from 'node:crypto';
import { InProcessLru } from 'src/common/cache/in-process-lru';
import { PhiCipherCore, PhiDecryptError } from 'src/records/phi/phi-cipher';
import { newDataKey, PhiDataKey, unwrapPatientKey, wrapPatientKey } from 'src/records/phi/phi-data-key';

const org = '0b7f6a3e-0000-4000-8000-000000000001';
const other = '0b7f6a3e-0000-4000-8000-000000000002';
const master = new PhiCipherCore({ encryption: [{ version: 'v1', key: randomBytes(32) }], blindIndex: randomBytes(32) });
const place = { table: 'patients', column: 'phone_enc', row: '6c1e0f0a-0000-4000-8000-00000000000a' };

describe('PhiDataKey', () => {
  const key = new PhiDataKey(org, 'p1', randomBytes(32), master);

  it('round-trips text and JSON, null as null, a fresh IV per value', () => {
    const a = key.encrypt('+1 555 0100', place) as string;
    expect(a.startsWith('p1:')).toBe(true);
    expect(key.decrypt(a, place)).toBe('+1 555 0100');
    expect(key.encrypt('+1 555 0100', place)).not.toBe(a);
    expect(key.decryptJson(key.encryptJson({ city: 'Lyon' }, place), place)).toEqual({ city: 'Lyon' });
    expect([key.encrypt(null, place), key.decrypt(null, place), key.encryptJson(undefined, place)]).toEqual([null, null, null]);
  });

  it('binds a value to its organization, table, column and row: moved anywhere else it fails with PhiDecryptError', () => {
    const value = key.encrypt('secret', place);
    expect(() => key.decrypt(value, { ...place, row: '6c1e0f0a-0000-4000-8000-00000000000b' })).toThrow(PhiDecryptError);
    expect(() => key.decrypt(value, { ...place, column: 'email_enc' })).toThrow(PhiDecryptError);
    expect(() => key.decrypt(value, { ...place, table: 'appointments' })).toThrow(PhiDecryptError);
    const raw = randomBytes(32);
    const here = new PhiDataKey(org, 'p1', raw, master);
    const there = new PhiDataKey(other, 'p1', raw, master);
    expect(() => there.decrypt(here.encrypt('secret', place), place)).toThrow(PhiDecryptError);
  });

  it("another patient's key does not open a patient's value, and an altered value fails", () => {
    const value = key.encrypt('secret', place) as string;
    expect(() => new PhiDataKey(org, 'p1', randomBytes(32), master).decrypt(value, place)).toThrow(PhiDecryptError);
    const tampered = `${value.slice(0, -6)}AAAAA=`;
    expect(() => key.decrypt(tampered, place)).toThrow(PhiDecryptError);
  });

  it('a destroyed key (crypto-shredded) makes its values unreadable and encrypts nothing', () => {
    const value = key.encrypt('secret', place);
    const gone = new PhiDataKey(org, 'p1', null, master);
    expect(gone.available).toBe(false);
    expect(() => gone.decrypt(value, place)).toThrow('does not exist');
    expect(() => gone.encrypt('x', place)).toThrow(PhiDecryptError);
  });

  it('reads former-format values (master key, v<n>:) until they are converted, even without a patient key', () => {
    const legacy = master.encrypt('old value');
    expect(new PhiDataKey(org, 'p1', null, master).decrypt(legacy, place)).toBe('old value');
    expect(key.decrypt(legacy, place)).toBe('old value');
  });

  it('an organization-format value is refused by a patient key', () => {
    const orgKey = new PhiDataKey(org, 'o1', randomBytes(32), master);
    expect(() => key.decrypt(orgKey.encrypt('x', place), place)).toThrow('format o1');
  });

  it('the recent-values cache is keyed by place: a value copied elsewhere never hits it', () => {
    const recent = new InProcessLru<string>(100, 60_000);
    const cached = new PhiDataKey(org, 'p1', randomBytes(32), master, recent);
    const value = cached.encrypt('+1 555 0100', place);
    expect(cached.decryptRecent(value, place)).toBe('+1 555 0100');
    expect(recent.size).toBe(1);
    expect(cached.decryptRecent(value, place)).toBe('+1 555 0100');
    expect(() => cached.decryptRecent(value, { ...place, row: '6c1e0f0a-0000-4000-8000-00000000000b' })).toThrow(PhiDecryptError);
    expect(recent.size).toBe(1);
  });

  it('never prints its key', () => {
    expect(JSON.stringify({ key })).toBe('{"key":"[PhiDataKey p1]"}');
  });
});

describe('patient key wrapping', () => {
  it('unwraps under the same organization key, organization, patient and version only', () => {
    const kek = randomBytes(32);
    const dek = randomBytes(32);
    const patient = '6c1e0f0a-0000-4000-8000-00000000000a';
    const wrapped = wrapPatientKey(kek, org, patient, 1, dek);
    expect(wrapped).toHaveLength(60);
    expect(unwrapPatientKey(kek, org, patient, 1, wrapped).equals(dek)).toBe(true);
    expect(() => unwrapPatientKey(kek, org, '6c1e0f0a-0000-4000-8000-00000000000b', 1, wrapped)).toThrow(PhiDecryptError);
    expect(() => unwrapPatientKey(kek, other, patient, 1, wrapped)).toThrow(PhiDecryptError);
    expect(() => unwrapPatientKey(kek, org, patient, 2, wrapped)).toThrow(PhiDecryptError);
    expect(() => unwrapPatientKey(randomBytes(32), org, patient, 1, wrapped)).toThrow(PhiDecryptError);
  });
});

describe('newDataKey', () => {
  it('gives 32-byte keys, all different across pool refills, each in memory of its own', () => {
    const keys = Array.from({ length: 2500 }, () => newDataKey()); // more than two pools of 1,024
    expect(keys.every((k) => k.length === 32)).toBe(true);
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(2500);
    expect(keys.some((k) => k.equals(Buffer.alloc(32)))).toBe(false);
    // Not views of a shared pool: changing one key changes no other.
    const before = keys[1].toString('hex');
    keys[0].fill(0);
    expect(keys[1].toString('hex')).toBe(before);
    expect(keys[0].buffer).not.toBe(keys[1].buffer);
  });

  it('makes keys that wrap, unwrap and encrypt like any other', () => {
    const dataKey = newDataKey();
    const kek = newDataKey();
    const wrapped = wrapPatientKey(kek, org, place.row, 1, dataKey);
    expect(unwrapPatientKey(kek, org, place.row, 1, wrapped).equals(dataKey)).toBe(true);
    const key = new PhiDataKey(org, 'p1', dataKey, master);
    expect(key.decrypt(key.encrypt('+1 555 0100', place), place)).toBe('+1 555 0100');
  });
});
