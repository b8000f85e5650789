import { createCipheriv, createDecipheriv, createHash, Hash, randomFillSync } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SETTINGS } from 'src/config/config.module';
import { localSecret, Settings } from 'src/config/settings';
import { InProcessLru } from 'src/common/cache/in-process-lru';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** IVs come from a pool refilled from the CSPRNG: one `randomFillSync` per 5,461 values instead of one per value. */
const IV_POOL_BYTES = IV_BYTES * 5461;

/** A stored value that cannot be decrypted: unknown key version, or tampered/corrupt ciphertext. Carries no PHI. */
export class PhiDecryptError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt a PHI value: ${reason}`);
    this.name = 'PhiDecryptError';
  }
}

export type BlindIndexKind = 'email' | 'phone' | 'identifier';

/**
 * Normalization before the blind index: emails trimmed and lower-cased, phones reduced to their digits; identifiers
 * (a patient's identifiers in outside systems, src/records/identifiers/) as they are: FHIR compares them exactly.
 */
export function normalizeForIndex(kind: BlindIndexKind, value: string): string {
  if (kind === 'identifier') return value;
  return kind === 'email' ? value.trim().toLowerCase() : value.replace(/\D+/g, '');
}

export interface PhiKeys {
  /** Versioned AES-256 keys, newest (the one that encrypts) first. */
  encryption: { version: string; key: Buffer }[];
  blindIndex: Buffer;
}

/**
 * Field-level encryption of protected health information: AES-256-GCM, a fresh 96-bit IV per value, the value
 * stored as `<keyVersion>:<base64(iv | tag | ciphertext)>`. The newest key encrypts; every configured key decrypts,
 * so keys rotate without downtime (`npm run rotate-keys` re-encrypts the old values).
 */
export class PhiCipherCore {
  private readonly keys: Map<string, Buffer>;
  private readonly current: { version: string; key: Buffer };
  /** HMAC-SHA256 inner and outer states after the key block, copied per value (RFC 2104; cheaper than createHmac). */
  private readonly hmacInner: Hash;
  private readonly hmacOuter: Hash;
  private ivPool = Buffer.alloc(0);
  private ivOffset = 0;
  readonly #keys: PhiKeys;

  constructor(keys: PhiKeys) {
    this.#keys = keys;
    if (keys.encryption.length === 0) throw new Error('PhiCipher needs at least one encryption key');
    this.keys = new Map(keys.encryption.map((k) => [k.version, k.key]));
    this.current = keys.encryption[0];
    const block = Buffer.alloc(64);
    (keys.blindIndex.length > 64 ? createHash('sha256').update(keys.blindIndex).digest() : keys.blindIndex).copy(block);
    this.hmacInner = createHash('sha256').update(block.map((b) => b ^ 0x36));
    this.hmacOuter = createHash('sha256').update(block.map((b) => b ^ 0x5c));
  }

  /**
   * The keys, for a worker thread of this process that encrypts or indexes on this cipher's behalf (the seed's
   * generator threads, src/demo-data/seed-block-pool.ts, build the same cipher from them). Never logged, stored or
   * sent out of the process.
   */
  keysForWorkerThread(): PhiKeys {
    return { encryption: this.#keys.encryption.map((k) => ({ version: k.version, key: Buffer.from(k.key) })), blindIndex: Buffer.from(this.#keys.blindIndex) };
  }

  /** Version of the key that encrypts (`v2`). */
  get currentVersion(): string {
    return this.current.version;
  }

  encrypt(plain: string | null): string | null {
    if (plain === null) return null;
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = cipher.update(plain, 'utf8');
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    return `${this.current.version}:${Buffer.concat([iv, tag, body, final]).toString('base64')}`;
  }

  decrypt(value: string | null): string | null {
    if (value === null) return null;
    const colon = value.indexOf(':');
    if (colon < 1) throw new PhiDecryptError('no key version prefix');
    const key = this.keys.get(value.slice(0, colon));
    if (!key) throw new PhiDecryptError(`key version ${value.slice(0, colon).slice(0, 8)} is not configured`);
    const raw = Buffer.from(value.slice(colon + 1), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PhiDecryptError('value too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PhiDecryptError('authentication failed');
    }
  }

  /**
   * `decrypt` for values shown again and again (the patient list's phone and email): the injectable PhiCipher keeps
   * recently decrypted values in process memory; this core class, used by the CLIs, does not.
   */
  decryptRecent(value: string | null): string | null {
    return this.decrypt(value);
  }

  encryptJson(value: unknown): string | null {
    return value === null || value === undefined ? null : this.encrypt(JSON.stringify(value));
  }

  decryptJson<T>(value: string | null): T | null {
    const plain = this.decrypt(value);
    return plain === null ? null : (JSON.parse(plain) as T);
  }

  /** Keyed hash (HMAC-SHA256, hex) of the normalized value, for exact-match lookups without decrypting. */
  blindIndex(kind: BlindIndexKind, value: string): string {
    const inner = this.hmacInner
      .copy()
      .update(`${kind}:${normalizeForIndex(kind, value)}`)
      .digest();
    return this.hmacOuter.copy().update(inner).digest('hex');
  }

  /**
   * A data key (of a stored file, src/file-store/) wrapped by the current key, bound to `aad` (where it belongs: a
   * wrapped key copied elsewhere does not unwrap): `<keyVersion>:<base64(iv | tag | wrapped key)>`.
   */
  wrapKey(dataKey: Buffer, aad: string): string {
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return `${this.current.version}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** The data key `wrapKey` wrapped, if `aad` is where it was bound; PhiDecryptError otherwise. */
  unwrapKey(wrapped: string, aad: string): Buffer {
    const colon = wrapped.indexOf(':');
    const key = colon > 0 ? this.keys.get(wrapped.slice(0, colon)) : undefined;
    if (!key) throw new PhiDecryptError('the key that wrapped this data key is not configured');
    const raw = Buffer.from(wrapped.slice(colon + 1), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PhiDecryptError('wrapped key too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PhiDecryptError('authentication failed');
    }
  }

  /** True when the stored value was encrypted under an older key than the current one. */
  needsRotation(value: string | null): boolean {
    return value !== null && !value.startsWith(`${this.current.version}:`);
  }

  private nextIv(): Buffer {
    if (this.ivOffset + IV_BYTES > this.ivPool.length) {
      // A new buffer each time: IVs handed out earlier are subarrays of the old one and must not change.
      this.ivPool = randomFillSync(Buffer.alloc(IV_POOL_BYTES));
      this.ivOffset = 0;
    }
    const iv = this.ivPool.subarray(this.ivOffset, this.ivOffset + IV_BYTES);
    this.ivOffset += IV_BYTES;
    return iv;
  }
}

/** `v2:<base64>,v1:<base64>` → keys, newest first (the format is validated by `loadSettings`). */
export function parseEncryptionKeys(raw: string): PhiKeys['encryption'] {
  return raw.split(',').map((entry) => {
    const colon = entry.trim().indexOf(':');
    const key = Buffer.from(entry.trim().slice(colon + 1), 'base64');
    if (colon < 1 || key.length !== KEY_BYTES) throw new Error('PHI_ENCRYPTION_KEYS: each entry must be v<n>:<base64 of 32 bytes>');
    return { version: entry.trim().slice(0, colon), key };
  });
}

/**
 * The keys from the settings; outside production, when unset, keys generated once under DATA_DIR
 * (`phi-encryption-key`, `phi-blind-index-key`), so the app, the CLIs and the seed all use the same ones.
 */
export function resolvePhiKeys(settings: Settings): PhiKeys {
  const production = settings.nodeEnv === 'production';
  if (production && (settings.phiEncryptionKeys === null || settings.phiBlindIndexKey === null)) {
    throw new Error('PHI_ENCRYPTION_KEYS and PHI_BLIND_INDEX_KEY are required in production');
  }
  const encryption = settings.phiEncryptionKeys ?? `v1:${localSecret(settings.dataDir, 'phi-encryption-key', KEY_BYTES)}`;
  const blind = settings.phiBlindIndexKey ?? localSecret(settings.dataDir, 'phi-blind-index-key', KEY_BYTES);
  return { encryption: parseEncryptionKeys(encryption), blindIndex: Buffer.from(blind, 'base64') };
}

/** A cipher outside Nest (CLIs, the seed): same keys as the app for the same settings. */
export function createPhiCipher(settings: Settings): PhiCipherCore {
  return new PhiCipherCore(resolvePhiKeys(settings));
}

/**
 * The injectable cipher (provided globally by RecordsModule), with recently decrypted values behind `decryptRecent`:
 * in this process's memory only (never Redis, never disk), keyed by the stored ciphertext
 * (`<keyVersion>:<base64(iv | tag | ciphertext)>`). A fresh IV per encryption makes every stored value unique, so an
 * entry can never answer for another value, and a changed or erased value (new or no ciphertext) is simply never
 * looked up again. Entries leave after `PHI_DECRYPT_CACHE_SECONDS` or when `PHI_DECRYPT_CACHE_ENTRIES` are kept
 * (least recently used first; 0 entries turns it off); a value that fails to decrypt is not kept.
 *
 * Why: the patient list decrypts a value per row (its contact ciphertext, phone and email: 100 AES-GCM decryptions
 * for a page of 100, about 0.7 ms of CPU), and front ends ask for the same first pages again and again. A hit costs
 * a Map lookup.
 */
@Injectable()
export class PhiCipher extends PhiCipherCore {
  private readonly recent: InProcessLru<string>;
  private readonly decryptStored = (stored: string): string => this.decrypt(stored) as string;

  constructor(@Inject(SETTINGS) settings: Settings) {
    super(resolvePhiKeys(settings));
    this.recent = new InProcessLru<string>(settings.phiDecryptCache.entries, settings.phiDecryptCache.seconds * 1000);
  }

  override decryptRecent(value: string | null): string | null {
    return value === null ? null : this.recent.getOrCompute(value, this.decryptStored);
  }
}
