import { createHash } from 'node:crypto';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** The name a key lookup's text is prepared under on a connection (one per text). */
export function keyLookupName(text: string): string {
  return `key-lookup-${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
}

/**
 * A lookup of rows by a unique key (`organization_id, source, external_id`, or a primary key), one LATERAL probe per
 * key, run on PostgreSQL's generic plan: prepared under its own name on the transaction's connection and run with
 * `plan_cache_mode = force_generic_plan` for that one statement (the setting restored after it, in the transaction).
 *
 * Why: with the organization's id as a value, the planner estimates its rows from the table's statistics, and an
 * organization those statistics do not know yet (a clinic whose first import is running, in a table that other
 * clinics fill) is estimated at one row. Every index that starts with `organization_id` then looks as good as the
 * unique key's, and the planner took the smallest, `(organization_id, id)`, filtering the organization's rows for each
 * key: a second clinic's FHIR import of 5,000 patients ran at about 300 resources a second instead of 7,000, each
 * chunk's lookups scanning the clinic's rows once per key. The generic plan estimates an average organization's rows,
 * and only the unique key's index finds one row among them (docs/fhir.md, "A second clinic's import").
 *
 * `db` must be a transaction's handle (TenantDb.transaction, whose handles honour `prepare`): the setting is local to
 * the transaction. A failed lookup leaves the setting to the transaction's rollback.
 */
export async function queryOnGenericPlan<T>(db: TenantSql, text: string, params: readonly unknown[]): Promise<T[]> {
  const [{ previous }] = await db.query<{ previous: string }>(
    `SELECT current_setting('plan_cache_mode') AS previous, set_config('plan_cache_mode', 'force_generic_plan', true)`,
  );
  const rows = await db.query<T>(text, params, { prepare: keyLookupName(text) });
  await db.query(`SELECT set_config('plan_cache_mode', $1, true)`, [previous]);
  return rows;
}
