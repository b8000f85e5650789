import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import type { InProcessLru } from 'src/common/cache/in-process-lru';
import { PhiCipherCore, PhiDecryptError } from 'src/records/phi/phi-cipher';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;
const IV_POOL_BYTES = IV_BYTES * 5461;

/**
 * Where a value is stored: its table, its column and its row (the row's primary key: the id, or for `fhir_resources`
 * `source/resource_type/resource_id`). With the organization it is the value's additional authenticated data, so a
 * value copied into another row, column or organization does not decrypt.
 */
export interface PhiPlace {
  table: string;
  column: string;
  row: string;
}

/** Value formats: `p1:` under a patient's data key, `o1:` under the organization's key; `v<n>:` is the former format. */
export type PhiKeyFormat = 'p1' | 'o1';

/** A value in the former format (`v<n>:`, one master key for everything, no place binding). */
export const isLegacyValue = (value: string): boolean =>
  value.charCodeAt(0) === 118 /* v */ && value.charCodeAt(1) >= 48 && value.charCodeAt(1) <= 57;

let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/** 96-bit IVs from a pool refilled from the CSPRNG (one `randomFillSync` per 5,461 values). */
export function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    // A new buffer each time: IVs handed out earlier are subarrays of the old one and must not change.
    ivPool = randomFillSync(Buffer.alloc(IV_POOL_BYTES));
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

let keyPool = Buffer.alloc(0);
let keyOffset = 0;
const KEY_POOL_BYTES = DATA_KEY_BYTES * 1024;

/**
 * A new patient data key: 32 bytes from the CSPRNG, drawn from a pool refilled by one `randomFillSync` per 1,024 keys
 * and copied out (each key its own memory). `randomBytes(32)` per key cost 5.2-5.8 µs here against 0.3-0.4 µs
 * (bench/small-costs-bench.ts), and the seed makes a million of them (docs/performance.md, "The seed's generator, profiled").
 */
export function newDataKey(): Buffer {
  if (keyOffset + DATA_KEY_BYTES > keyPool.length) {
    keyPool = randomFillSync(Buffer.allocUnsafeSlow(KEY_POOL_BYTES));
    keyOffset = 0;
  }
  const key = Buffer.allocUnsafeSlow(DATA_KEY_BYTES);
  keyPool.copy(key, 0, keyOffset, keyOffset + DATA_KEY_BYTES);
  // The pool's bytes handed out are zeroed: a key lives in one place only.
  keyPool.fill(0, keyOffset, keyOffset + DATA_KEY_BYTES);
  keyOffset += DATA_KEY_BYTES;
  return key;
}

/** AES-256-GCM of `plain` under `key`, bound to `aad`: `iv | tag | ciphertext`. */
export function seal(key: Buffer, plain: Buffer | string, aad: Buffer): Buffer {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = typeof plain === 'string' ? cipher.update(plain, 'utf8') : cipher.update(plain);
  const final = cipher.final();
  return Buffer.concat([iv, cipher.getAuthTag(), body, final]);
}

/** The plaintext `seal` sealed, if `key` and `aad` are the same; PhiDecryptError otherwise. */
export function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new PhiDecryptError('value too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PhiDecryptError('authentication failed (wrong key, or the value was moved from its place or altered)');
  }
}

/** A patient's data key wrapped by the organization's key of `kekVersion`, bound to organization, patient and version. */
export function wrapPatientKey(kek: Buffer, organizationId: string, patientId: string, kekVersion: number, dataKey: Buffer): Buffer {
  return seal(kek, dataKey, patientKeyAad(organizationId, patientId, kekVersion));
}

export function unwrapPatientKey(kek: Buffer, organizationId: string, patientId: string, kekVersion: number, wrapped: Buffer): Buffer {
  return open(kek, wrapped, patientKeyAad(organizationId, patientId, kekVersion));
}

const patientKeyAad = (organizationId: string, patientId: string, kekVersion: number): Buffer =>
  Buffer.from(`phi-patient-key\u0000${organizationId.toLowerCase()}\u0000${patientId.toLowerCase()}\u0000${kekVersion}`, 'utf8');

/** The binding of an organization key to its place, for the master key's `wrapKey`/`unwrapKey`. */
export const organizationKeyAad = (organizationId: string, version: number): string =>
  `phi-organization-key\u0000${organizationId.toLowerCase()}\u0000${version}`;

/**
 * One unwrapped key (a patient's data key, or the organization's key for values of no patient) with what it
 * encrypts: `encrypt(value, place)` → `p1:<base64(iv | tag | ciphertext)>` (or `o1:`), bound to the organization and
 * the place. `decrypt` also reads values of the former format (`v<n>:`, the master keys, no binding) until
 * `npm run rotate-keys` has converted them. A key that is not there (never created, or destroyed by an erasure) still
 * gives an object: it reads former-format values and answers PhiDecryptError for the others.
 *
 * The key never leaves the process: no getter, not serializable.
 */
export class PhiDataKey {
  readonly #key: Buffer | null;
  private readonly organizationId: string;
  private readonly prefix: string;

  constructor(
    organizationId: string,
    readonly format: PhiKeyFormat,
    key: Buffer | null,
    private readonly legacy: PhiCipherCore,
    private readonly recent: InProcessLru<string> | null = null,
    /** Keys that decrypt only (older versions during an organization key rotation), tried when `key` fails. */
    private readonly older: readonly Buffer[] = [],
  ) {
    this.organizationId = organizationId.toLowerCase();
    this.#key = key;
    this.prefix = `${format}:`;
  }

  /** Whether the key exists (false: never created, or destroyed). */
  get available(): boolean {
    return this.#key !== null;
  }

  encrypt(plain: string | null, place: PhiPlace): string | null {
    if (plain === null) return null;
    if (this.#key === null) throw new PhiDecryptError('no key to encrypt with (the patient key was not created or was destroyed)');
    return this.prefix + seal(this.#key, plain, this.aad(place)).toString('base64');
  }

  decrypt(value: string | null, place: PhiPlace): string | null {
    if (value === null) return null;
    if (isLegacyValue(value)) return this.legacy.decrypt(value);
    if (!value.startsWith(this.prefix)) {
      // The format is named only when it is one (a plain text stored by mistake must not reach a log).
      const format = /^[a-z][0-9]:/.test(value) ? value.slice(0, 2) : 'unknown';
      throw new PhiDecryptError(`a value of format ${format} read with a ${this.format} key`);
    }
    if (this.#key === null) throw new PhiDecryptError('the key of this value does not exist (destroyed at erasure, or never created)');
    const sealed = Buffer.from(value.slice(3), 'base64');
    const aad = this.aad(place);
    try {
      return open(this.#key, sealed, aad).toString('utf8');
    } catch (err) {
      for (const key of this.older) {
        try {
          return open(key, sealed, aad).toString('utf8');
        } catch {
          // the next one
        }
      }
      throw err;
    }
  }

  /** Whether `value` is encrypted under this key itself (not one of the older ones, not the former format). */
  isCurrent(value: string, place: PhiPlace): boolean {
    if (this.#key === null || !value.startsWith(this.prefix)) return false;
    try {
      open(this.#key, Buffer.from(value.slice(3), 'base64'), this.aad(place));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * `decrypt` for values shown again and again (the list's phone and email), through the keyring's in-process cache
   * of decrypted values: keyed by the ciphertext and its place, so a value copied elsewhere never hits.
   */
  decryptRecent(value: string | null, place: PhiPlace): string | null {
    // The cache turned off (PHI_DECRYPT_CACHE_ENTRIES=0): no cache key built (a string of the ciphertext's length).
    if (value === null || this.recent === null || !this.recent.enabled || (this.#key === null && !isLegacyValue(value))) return this.decrypt(value, place);
    const cacheKey = `${place.table}\u0000${place.column}\u0000${place.row}\u0000${value}`;
    const hit = this.recent.get(cacheKey);
    if (hit !== undefined) return hit;
    const plain = this.decrypt(value, place) as string;
    this.recent.set(cacheKey, plain);
    return plain;
  }

  encryptJson(value: unknown, place: PhiPlace): string | null {
    return value === null || value === undefined ? null : this.encrypt(JSON.stringify(value), place);
  }

  decryptJson<T>(value: string | null, place: PhiPlace): T | null {
    const plain = this.decrypt(value, place);
    return plain === null ? null : (JSON.parse(plain) as T);
  }

  private aad(place: PhiPlace): Buffer {
    return Buffer.from(`${this.organizationId}\u0000${place.table}\u0000${place.column}\u0000${place.row}`, 'utf8');
  }

  /** Never printed. */
  toJSON(): string {
    return `[PhiDataKey ${this.format}]`;
  }
}
