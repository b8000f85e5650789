import type { Client } from 'pg';

/**
 * Secondary indexes of the seeded tables, dropped for a large load and rebuilt after it: PostgreSQL sorts a whole
 * table into a fresh index many times faster than it inserts tens of millions of keys one by one (and a million
 * patients' worth of random-order keys no longer fits in shared buffers, so each insert becomes random I/O).
 * Primary keys and the unique keys that foreign keys rely on stay: the seed's ids are time-ordered, so those
 * indexes grow at their right edge and cost little.
 */
export interface DroppedIndex {
  table: string;
  name: string;
  /** Recreates it exactly (same name and definition: the schema-drift check sees no difference). */
  restore: string;
}

export async function dropSecondaryIndexes(client: Client, tables: readonly string[]): Promise<DroppedIndex[]> {
  const { rows } = await client.query<{ tbl: string; name: string; index_def: string; constraint_name: string | null; constraint_def: string | null }>(
    `SELECT i.indrelid::regclass::text AS tbl, c.relname AS name, pg_get_indexdef(i.indexrelid) AS index_def,
            k.conname AS constraint_name, pg_get_constraintdef(k.oid) AS constraint_def
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('u', 'x')
      WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
      ORDER BY 1, 2`,
    [tables],
  );
  const dropped: DroppedIndex[] = [];
  for (const r of rows) {
    const table = client.escapeIdentifier(r.tbl);
    const name = client.escapeIdentifier(r.name);
    if (r.constraint_name !== null && r.constraint_def !== null) {
      await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${client.escapeIdentifier(r.constraint_name)}`);
      dropped.push({ table: r.tbl, name: r.name, restore: `ALTER TABLE ${table} ADD CONSTRAINT ${client.escapeIdentifier(r.constraint_name)} ${r.constraint_def}` });
    } else {
      await client.query(`DROP INDEX ${name}`);
      // A partitioned table's index reads `ON ONLY` (the parent alone, invalid until each partition's is attached):
      // recreated without it, it is built on every partition again.
      dropped.push({ table: r.tbl, name: r.name, restore: r.index_def.replace(/ ON ONLY /, ' ON ') });
    }
  }
  return dropped;
}

/**
 * Rebuilds what `dropSecondaryIndexes` dropped, with enough memory to sort in one pass. PostgreSQL builds each
 * B-tree with parallel workers (max_parallel_maintenance_workers, 2 by default) and splits maintenance_work_mem
 * among the leader and its workers: at 512MB each of the three gets 170MB, and an index of 3 million text keys was
 * already sorted on disk (trace_sort) and built 1.4 times slower than with 1.5GB. Only for the seed's index builds.
 */
export async function restoreIndexes(client: Client, dropped: readonly DroppedIndex[], onIndex?: (done: number, total: number) => void): Promise<void> {
  await client.query(`SET LOCAL maintenance_work_mem = '1536MB'`);
  let done = 0;
  for (const index of dropped) {
    await client.query(index.restore);
    onIndex?.(++done, dropped.length);
  }
}
