import { hkdfSync, randomBytes } from 'node:crypto';
import { InProcessLru } from 'src/common/cache/in-process-lru';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { BlindIndexKind, PhiCipherCore, PhiDecryptError } from 'src/records/phi/phi-cipher';
import { DATA_KEY_BYTES, newDataKey, organizationKeyAad, PhiDataKey, unwrapPatientKey, wrapPatientKey } from 'src/records/phi/phi-data-key';
import { tenantId } from 'src/database/tenant/tenant-sql';
import { PhiKeysRepository, StoredOrganizationKey, StoredPatientKey } from 'src/records/phi/phi-keys.repository';

/** How long an unwrapped key stays in process memory (it leaves sooner when PHI_KEY_CACHE_ENTRIES are kept). */
export const KEY_CACHE_MS = 15 * 60_000;

interface OrganizationKeys {
  current: number;
  keys: Map<number, Buffer>;
}

/** Keys of a batch of patients: `get(id)` is the patient's key, or an unavailable one (destroyed, or never created). */
export class PatientKeys {
  constructor(
    private readonly byPatient: Map<string, PhiDataKey>,
    private readonly missing: PhiDataKey,
  ) {}

  get(patientId: string): PhiDataKey {
    return this.byPatient.get(patientId) ?? this.byPatient.get(patientId.toLowerCase()) ?? this.missing;
  }

  get size(): number {
    return this.byPatient.size;
  }
}

/**
 * Stored keys read with the caller's own rows (e.g. the list page's statement), so that keysFor needs no statement:
 * `patients` the wrapped keys of (some of) the patients asked for, `organization` every version of the
 * organization's key (as PhiKeysRepository.organizationKeys reads them).
 */
export interface PrefetchedKeys {
  patients: readonly StoredPatientKey[];
  organization: readonly StoredOrganizationKey[];
}

/** Keys of patients about to be stored (their rows do not exist yet): `save` after the rows are written. */
export interface PendingPatientKeys {
  keys: PatientKeys;
  save(): Promise<void>;
}

/**
 * Envelope encryption of PHI (docs/privacy.md, "Keys"): the configured master key (PHI_ENCRYPTION_KEYS) wraps each
 * organization's key (`organization_keys`), which wraps each patient's data key (`patient_keys`); a patient's values
 * are encrypted with their data key and bound to their place (PhiDataKey). Unwrapped keys stay in this process only,
 * in a bounded LRU (PHI_KEY_CACHE_ENTRIES, 15 minutes each); look-ups are by batch (one statement for the keys of a
 * page or a batch that are not cached).
 *
 * Blind indexes (email/phone look-ups) stay keyed by PHI_BLIND_INDEX_KEY, the same for every organization.
 */
export class PhiKeyringCore {
  private readonly repository = new PhiKeysRepository();
  private readonly keys: InProcessLru<Buffer>;
  private readonly organizations: InProcessLru<OrganizationKeys>;

  constructor(
    readonly master: PhiCipherCore,
    keyCacheEntries: number,
    private readonly recent: InProcessLru<string> | null = null,
  ) {
    this.keys = new InProcessLru<Buffer>(keyCacheEntries, KEY_CACHE_MS);
    this.organizations = new InProcessLru<OrganizationKeys>(Math.min(keyCacheEntries, 10_000), KEY_CACHE_MS);
  }

  blindIndex(kind: BlindIndexKind, value: string): string {
    return this.master.blindIndex(kind, value);
  }

  /** A key that reads only values of the former format (`v<n>:`): for places whose key is not at hand. */
  legacyOnly(organizationId: string): PhiDataKey {
    return new PhiDataKey(organizationId, 'p1', null, this.master, this.recent);
  }

  /**
   * Whether this process holds the organization's unwrapped key (it has read one of its patients' keys in the last
   * KEY_CACHE_MS). When it does not, a caller about to read patients' rows may read their stored keys with them
   * (`PrefetchedKeys`) instead of a statement of its own afterwards: the list does, on a clinic's first request.
   */
  knowsOrganization(organizationId: string): boolean {
    return this.organizations.get(tenantId(organizationId)) !== undefined;
  }

  /**
   * The stored keys of these patients: one statement for those not in the cache; missing ones are unavailable.
   * `prefetched`: their stored keys and the organization's, read already (with the caller's rows, in the same
   * tenant handle): no statement then, but the same unwrapping and caching.
   */
  async keysFor(db: TenantSql, patientIds: Iterable<string>, prefetched?: PrefetchedKeys): Promise<PatientKeys> {
    const org = db.organizationId;
    const out = new Map<string, PhiDataKey>();
    const wanted: string[] = [];
    for (const id of new Set([...patientIds].map((p) => (p ? p.toLowerCase() : p)))) {
      if (!id) continue;
      const key = this.keys.get(cacheKey(org, id));
      if (key) out.set(id, this.dataKey(org, key));
      else wanted.push(id);
    }
    if (wanted.length > 0) {
      let stored: StoredPatientKey[];
      if (prefetched) {
        const missing = new Set(wanted);
        stored = prefetched.patients.filter((s) => missing.has(s.patient_id.toLowerCase()));
      } else {
        stored = await this.repository.patientKeys(db, wanted);
      }
      if (stored.length > 0) {
        let kek = await this.organizationKeys(db, false, false, prefetched?.organization);
        if (kek === null || stored.some((s) => !kek?.keys.has(s.kek_version))) kek = await this.organizationKeys(db, false, true);
        for (const s of stored) {
          const wrapping = kek?.keys.get(s.kek_version);
          if (!wrapping) throw new PhiDecryptError(`organization key version ${s.kek_version} is missing`);
          const key = unwrapPatientKey(wrapping, org, s.patient_id, s.kek_version, s.wrapped_key);
          // A key this very transaction created is not committed yet: a rollback would leave the cache lying.
          if (!s.mine) this.keys.set(cacheKey(org, s.patient_id), key);
          out.set(s.patient_id, this.dataKey(org, key));
        }
      }
    }
    return new PatientKeys(out, this.legacyOnly(org));
  }

  /**
   * The keys of stored patients, creating (and storing, in the caller's transaction) those they lack: patients
   * stored before envelope encryption, or whose key was never made.
   */
  async ensureKeys(db: TenantSql, patientIds: Iterable<string>): Promise<PatientKeys> {
    const ids = [...new Set([...patientIds].map((id) => id.toLowerCase()))].filter((id) => id !== '');
    const have = await this.keysFor(db, ids);
    const lacking = ids.filter((id) => !have.get(id).available);
    if (lacking.length === 0) return have;
    const pending = await this.newKeys(db, lacking);
    await pending.save();
    return new PatientKeys(
      new Map(ids.map((id) => [id, have.get(id).available ? have.get(id) : pending.keys.get(id)])),
      this.legacyOnly(db.organizationId),
    );
  }

  /**
   * Fresh keys for patients whose rows are about to be written (ids chosen by the caller): encrypt with `keys`,
   * write the rows, then `save()` (a patient key references its patient). A failed transaction leaves nothing.
   */
  async newKeys(db: TenantSql, patientIds: readonly string[]): Promise<PendingPatientKeys> {
    const org = db.organizationId;
    const kek = await this.organizationKeys(db, true, 'newest');
    if (kek === null) throw new Error('organization key not created');
    const wrapping = kek.keys.get(kek.current) as Buffer;
    const out = new Map<string, PhiDataKey>();
    const rows: StoredPatientKey[] = [];
    for (const id of new Set(patientIds)) {
      const key = newDataKey();
      out.set(id, this.dataKey(org, key));
      rows.push({ patient_id: id, kek_version: kek.current, wrapped_key: wrapPatientKey(wrapping, org, id, kek.current, key) });
    }
    return {
      keys: new PatientKeys(out, this.legacyOnly(org)),
      save: async () => {
        const stored = await this.repository.insertPatientKeys(db, rows);
        if (stored.size !== rows.length) throw new PhiKeyConflictError();
        // Not cached: the transaction may still roll back (keysFor caches them once committed).
      },
    };
  }

  /**
   * The organization's own key for values that belong to no patient (format `o1:`), derived from its current key
   * (HKDF, so the key that wraps patient keys never encrypts values itself). Created on first use when `create`.
   */
  async organizationDataKey(db: TenantSql, create: boolean): Promise<PhiDataKey> {
    const kek = await this.organizationKeys(db, create, 'newest');
    if (kek === null) return new PhiDataKey(db.organizationId, 'o1', null, this.master, this.recent);
    // While the organization's key is being rotated (`npm run rotate-keys -- --org <slug> --org-key`), values written
    // under the older version are read with it until the rotation's last step has re-encrypted them.
    const older = [...kek.keys.keys()].filter((v) => v !== kek.current).sort((a, b) => b - a);
    return this.organizationValueKey(
      db.organizationId,
      kek.keys.get(kek.current) as Buffer,
      older.map((v) => kek.keys.get(v) as Buffer),
    );
  }

  /** The key of the organization's own values from given versions of its key (the rotation's, which holds them). */
  organizationValueKey(organizationId: string, kek: Buffer, older: readonly Buffer[] = []): PhiDataKey {
    return new PhiDataKey(organizationId, 'o1', organizationValueKey(kek), this.master, this.recent, older.map(organizationValueKey));
  }

  /** Drops these patients' unwrapped keys from this process (after their erasure). */
  forget(organizationId: string, patientIds: Iterable<string>): void {
    for (const id of patientIds) this.keys.delete(cacheKey(organizationId.toLowerCase(), id.toLowerCase()));
    this.recent?.clear();
  }

  /**
   * The organization's unwrapped keys (cached), created when `create` and there is none; null when none and not
   * `create`. `reload`: read them again. `newest`: check first that the cache holds the newest version (one
   * statement; with the organization's key lock, shared, when `create`, i.e. in a transaction that writes), so that a
   * key rotated by another process is not written under again, and the rotation's last step waits for what was.
   */
  private async organizationKeys(
    db: TenantSql,
    create: boolean,
    reload: boolean | 'newest' = false,
    prefetched?: readonly StoredOrganizationKey[],
  ): Promise<OrganizationKeys | null> {
    const org = db.organizationId;
    let cached = reload === true ? undefined : this.organizations.get(org);
    if (reload === 'newest') {
      const newest = await this.repository.newestOrganizationKeyVersion(db, create);
      if (newest === null && !create) return null;
      if (cached && cached.current !== newest) cached = undefined;
    }
    if (cached) return cached;
    let stored = prefetched && prefetched.length > 0 ? [...prefetched] : await this.repository.organizationKeys(db);
    if (stored.length === 0) {
      if (!create) return null;
      const key = randomBytes(DATA_KEY_BYTES);
      await this.repository.insertOrganizationKey(db, 1, this.master.wrapKey(key, organizationKeyAad(org, 1)));
      stored = await this.repository.organizationKeys(db);
    }
    const keys = new Map(stored.map((s) => [s.version, this.master.unwrapKey(s.wrapped_key, organizationKeyAad(org, s.version))]));
    const value = { current: Math.max(...keys.keys()), keys };
    if (!stored.some((s) => s.mine)) this.organizations.set(org, value);
    return value;
  }

  private dataKey(organizationId: string, key: Buffer): PhiDataKey {
    return new PhiDataKey(organizationId, 'p1', key, this.master, this.recent);
  }
}

/** The key of an organization's own values (`o1:`), derived from one version of its key. */
const organizationValueKey = (kek: Buffer): Buffer =>
  Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'phi-organization-values', DATA_KEY_BYTES));

const cacheKey = (organizationId: string, patientId: string): string => `${organizationId}\u0000${patientId}`;

/** Another transaction stored keys for the same new patients first: the caller retries. */
export class PhiKeyConflictError extends Error {
  constructor() {
    super('A concurrent write created the same patients first; retry the request');
    this.name = 'PhiKeyConflictError';
  }
}
