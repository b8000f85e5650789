import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { PhiKeyringCore } from 'src/records/phi/phi-keyring-core';
import type { TestDatabase } from 'test/utils/test-database';

/** The owner connection of a test database as a tenant handle (the owner is not under row-level security). */
export const ownerTenant = (db: TestDatabase, organizationId: string): TenantSql => ({
  organizationId,
  query: <T>(sql: string, params?: readonly unknown[]) => db.query(sql, params as unknown[]) as Promise<T[]>,
});

/**
 * Reads patients' encrypted columns in tests: `read(row, column)` decrypts `row[column]` (a `patients` row with its
 * `id`) with the patient's key, bound to its place. One key look-up for all the rows.
 */
export async function patientColumns<R extends { id: string }>(
  db: TestDatabase,
  keyring: PhiKeyringCore,
  organizationId: string,
  rows: R[],
): Promise<{ text(row: R, column: keyof R & string): string | null; json<T>(row: R, column: keyof R & string): T | null }> {
  const keys = await keyring.keysFor(ownerTenant(db, organizationId), rows.map((r) => r.id));
  const place = (row: R, column: string): { table: string; column: string; row: string } => ({ table: 'patients', column, row: row.id });
  return {
    text: (row, column) => keys.get(row.id).decrypt(row[column] as string | null, place(row, column)),
    json: <T>(row: R, column: keyof R & string) => keys.get(row.id).decryptJson<T>(row[column] as string | null, place(row, column)),
  };
}
