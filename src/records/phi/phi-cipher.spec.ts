import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { loadSettings, SettingsError } from 'src/config/settings';
import { createPhiCipher, PhiCipher, PhiCipherCore, PhiDecryptError } from 'src/records/phi/phi-cipher';
import { thrown } from 'test/utils/thrown';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const bidx = randomBytes(32).toString('base64');

function cipher(keys: string): PhiCipherCore {
  return createPhiCipher(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: keys, PHI_BLIND_INDEX_KEY: bidx }));
}

describe('PhiCipher', () => {
  it('round-trips text and JSON, tagging the value with the key version', () => {
    const c = cipher(`v1:${k1}`);
    const enc = c.encrypt('jane@example.com')!;
    expect(enc).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    expect(enc).not.toContain('jane');
    expect(c.decrypt(enc)).toBe('jane@example.com');
    expect(c.decryptJson<string[]>(c.encryptJson(['asthma', 'ünïcode']))).toEqual(['asthma', 'ünïcode']);
    expect(c.encrypt(null)).toBeNull();
    expect(c.decrypt(null)).toBeNull();
    expect(c.encryptJson(null)).toBeNull();
    expect(c.encrypt('')).not.toBeNull();
    expect(c.decrypt(c.encrypt(''))).toBe('');
  });

  it('uses a fresh IV per value', () => {
    const c = cipher(`v1:${k1}`);
    const values = new Set(Array.from({ length: 10_000 }, () => c.encrypt('same')));
    expect(values.size).toBe(10_000);
  });

  it('encrypts with the newest key and decrypts with every configured key', () => {
    const old = cipher(`v1:${k1}`);
    const rotated = cipher(`v2:${k2},v1:${k1}`);
    const legacy = old.encrypt('555-0100')!;
    expect(rotated.decrypt(legacy)).toBe('555-0100');
    expect(rotated.needsRotation(legacy)).toBe(true);
    const fresh = rotated.encrypt('555-0100')!;
    expect(fresh.startsWith('v2:')).toBe(true);
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(() => old.decrypt(fresh)).toThrow(PhiDecryptError);
  });

  it('refuses tampered values without echoing them', () => {
    const c = cipher(`v1:${k1}`);
    const enc = c.encrypt('secret condition')!;
    const raw = Buffer.from(enc.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => c.decrypt(`v1:${raw.toString('base64')}`)).toThrow('authentication failed');
    expect(() => c.decrypt('garbage')).toThrow(PhiDecryptError);
    expect(() => c.decrypt('v1:AAAA')).toThrow(PhiDecryptError);
  });

  it('decryptRecent: the injectable cipher decrypts a repeated value once; the core (CLIs) every time', () => {
    const settings = loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: `v1:${k1}`, PHI_BLIND_INDEX_KEY: bidx });
    const app = new PhiCipher(settings);
    const core = cipher(`v1:${k1}`);
    const enc = app.encrypt('+1 555 0100')!;
    const appDecrypt = jest.spyOn(app, 'decrypt');
    const coreDecrypt = jest.spyOn(core, 'decrypt');
    for (let i = 0; i < 3; i++) {
      expect(app.decryptRecent(enc)).toBe('+1 555 0100');
      expect(core.decryptRecent(enc)).toBe('+1 555 0100');
    }
    expect(app.decryptRecent(null)).toBeNull();
    expect(appDecrypt).toHaveBeenCalledTimes(1);
    expect(coreDecrypt).toHaveBeenCalledTimes(3);
    // A tampered value still fails, and is not kept.
    expect(() => app.decryptRecent(`${enc.slice(0, -4)}AAAA`)).toThrow(PhiDecryptError);
    const off = new PhiCipher(
      loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: `v1:${k1}`, PHI_BLIND_INDEX_KEY: bidx, PHI_DECRYPT_CACHE_ENTRIES: '0' }),
    );
    const offDecrypt = jest.spyOn(off, 'decrypt');
    off.decryptRecent(enc);
    off.decryptRecent(enc);
    expect(offDecrypt).toHaveBeenCalledTimes(2);
    expect(() => loadSettings({ NODE_ENV: 'test', PHI_DECRYPT_CACHE_ENTRIES: '-1' })).toThrow('PHI_DECRYPT_CACHE_ENTRIES');
  });

  it('blind-indexes normalized emails and phones with a keyed hash', () => {
    const c = cipher(`v1:${k1}`);
    expect(c.blindIndex('email', ' Jane@Example.COM ')).toBe(c.blindIndex('email', 'jane@example.com'));
    expect(c.blindIndex('phone', '+1 (555) 010-0100')).toBe(c.blindIndex('phone', '15550100100'));
    expect(c.blindIndex('email', 'a@b.c')).toMatch(/^[0-9a-f]{64}$/);
    expect(c.blindIndex('email', 'A@b.c')).toBe(createHmac('sha256', Buffer.from(bidx, 'base64')).update('email:a@b.c').digest('hex'));
    expect(c.blindIndex('email', '5550100')).not.toBe(c.blindIndex('phone', '5550100'));
    const other = createPhiCipher(loadSettings({ NODE_ENV: 'test', PHI_ENCRYPTION_KEYS: `v1:${k1}`, PHI_BLIND_INDEX_KEY: k2 }));
    expect(other.blindIndex('email', 'a@b.c')).not.toBe(c.blindIndex('email', 'a@b.c'));
  });
});

describe('PHI key settings', () => {
  it('rejects malformed keys naming the variable', () => {
    for (const bad of ['nope', `v1:${k1.slice(4)}`, `v1:${k1},v1:${k2}`, `x1:${k1}`, `v1:${k1},`]) {
      expect(() => loadSettings({ PHI_ENCRYPTION_KEYS: bad })).toThrow(SettingsError);
      const err = thrown(() => loadSettings({ PHI_ENCRYPTION_KEYS: bad })) as SettingsError;
      expect(err.variable).toBe('PHI_ENCRYPTION_KEYS');
      expect(err.message).not.toContain(k1);
    }
    expect(() => loadSettings({ PHI_BLIND_INDEX_KEY: 'c2hvcnQ=' })).toThrow('PHI_BLIND_INDEX_KEY');
  });

  it('production refuses to start without keys', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@h/db',
      JWKS_URI: 'https://i/jwks',
      JWT_ISSUER: 'i',
      JWT_AUDIENCE: 'a',
    };
    expect(() => loadSettings(base)).toThrow('PHI_ENCRYPTION_KEYS');
    expect(() => loadSettings({ ...base, PHI_ENCRYPTION_KEYS: `v1:${k1}` })).toThrow('PHI_BLIND_INDEX_KEY');
    expect(() => loadSettings({ ...base, PHI_ENCRYPTION_KEYS: `v1:${k1}`, PHI_BLIND_INDEX_KEY: k2 })).toThrow('ERASURE_TOMBSTONE_KEY');
  });

  it('outside production generates keys once under DATA_DIR, shared by every cipher', () => {
    const dir = `/tmp/phi-spec-${process.pid}-${Date.now()}`;
    const a = createPhiCipher(loadSettings({ NODE_ENV: 'development', DATA_DIR: dir }));
    const b = createPhiCipher(loadSettings({ NODE_ENV: 'development', DATA_DIR: dir }));
    expect(b.decrypt(a.encrypt('x'))).toBe('x');
    expect(a.blindIndex('email', 'a@b.c')).toBe(b.blindIndex('email', 'a@b.c'));
    expect(a.currentVersion).toBe('v1');
    rmSync(dir, { recursive: true, force: true });
  });
});
