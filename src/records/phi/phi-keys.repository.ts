import type { TenantSql } from 'src/database/tenant/tenant-sql';

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
    return db.query<StoredOrganizationKey>(`SELECT version, wrapped_key, created_at = now() AS mine FROM organization_keys WHERE organization_id = $1 ORDER BY version`, [
      db.organizationId,
    ]);
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
