import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** The advisory lock of an organization's key (`$1` the organization id): writers shared, a key rotation exclusive. */
export const ORGANIZATION_KEY_LOCK = `hashtextextended('phi-organization-key:' || $1::uuid::text, 0)`;

export interface StoredOrganizationKey {
  version: number;
  wrapped_key: string;
  /** Created by the caller's own transaction (not committed yet: never cached). */
  mine?: boolean;
}

export interface StoredPatientKey {
  patient_id: string;
  wrapped_key: Buffer;
  kek_version: number;
  /** Created by the caller's own transaction (not committed yet: never cached). */
  mine?: boolean;
}

/** Every SQL statement of the keyring, on the caller's tenant handle (row-level security applies). */
export class PhiKeysRepository {
  /** The organization's keys, every version (a handful at most). */
  async organizationKeys(db: TenantSql): Promise<StoredOrganizationKey[]> {
    return db.query<StoredOrganizationKey>(
      `SELECT version, wrapped_key, created_at = now() AS mine FROM organization_keys WHERE organization_id = $1 ORDER BY version`,
      [db.organizationId],
    );
  }

  /**
   * The organization's newest key version (null: none). `lock` (in a transaction that writes under it): also takes
   * the organization's key lock, shared, until the transaction ends, in the same statement (so with the same snapshot):
   * a rotation of the organization's key takes it exclusively when it creates the new version and again for its last
   * step, so that step sees, and moves to the new version, whatever was written under the old one meanwhile.
   * (An advisory lock: the runtime role may not update key rows, so it cannot lock them FOR KEY SHARE.)
   */
  async newestOrganizationKeyVersion(db: TenantSql, lock: boolean): Promise<number | null> {
    const rows = await db.query<{ version: number | null }>(
      lock
        ? `SELECT pg_advisory_xact_lock_shared(${ORGANIZATION_KEY_LOCK}) IS NULL AS locked,
                  (SELECT max(version) FROM organization_keys WHERE organization_id = $1) AS version`
        : `SELECT max(version) AS version FROM organization_keys WHERE organization_id = $1`,
      [db.organizationId],
    );
    return rows[0]?.version ?? null;
  }

  /** Stores a new organization key unless one of that version exists (a concurrent first writer wins). */
  async insertOrganizationKey(db: TenantSql, version: number, wrappedKey: string): Promise<void> {
    await db.query(`INSERT INTO organization_keys (organization_id, version, wrapped_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      db.organizationId,
      version,
      wrappedKey,
    ]);
  }

  /** The wrapped data keys of these patients (those that have one), in one statement. */
  async patientKeys(db: TenantSql, patientIds: readonly string[]): Promise<StoredPatientKey[]> {
    if (patientIds.length === 0) return [];
    return db.query<StoredPatientKey>(
      `SELECT patient_id, wrapped_key, kek_version, created_at = now() AS mine FROM patient_keys WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])`,
      [db.organizationId, patientIds],
    );
  }

  /** Stores new patient keys in one statement; returns the ids stored (a patient that has a key already keeps it). */
  async insertPatientKeys(db: TenantSql, keys: readonly StoredPatientKey[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await db.query<{ patient_id: string }>(
      `INSERT INTO patient_keys (organization_id, patient_id, wrapped_key, kek_version)
       SELECT $1, k.patient_id, decode(k.wrapped_key, 'base64'), k.kek_version
         FROM unnest($2::uuid[], $3::text[], $4::int[]) AS k(patient_id, wrapped_key, kek_version)
       ON CONFLICT DO NOTHING RETURNING patient_id`,
      [db.organizationId, keys.map((k) => k.patient_id), keys.map((k) => k.wrapped_key.toString('base64')), keys.map((k) => k.kek_version)],
    );
    return new Set(rows.map((r) => r.patient_id));
  }
}
