import type { Client } from 'pg';

/**
 * Secondary indexes of the seeded tables, dropped for a large load and rebuilt after it: PostgreSQL sorts a whole
 * table into a fresh index many times faster than it inserts tens of millions of keys one by one (and a million
 * patients' worth of random-order keys no longer fits in shared buffers, so each insert becomes random I/O).
 * Primary keys and the unique keys that foreign keys rely on stay. The seed's ids are time-ordered, so a primary key
 * grows at its right edge; it still costs about a fifth of its table's COPY, but rebuilding it after the load cost 2.5
 * times that (a second scan of the table and a sort: docs/performance.md, "The child tables' primary keys during the
 * load"), so the child tables' keep theirs too although no foreign key needs them.
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
 * Without workers the builds cost a third less CPU at 200,000 patients in the same time, but at a million's sizes
 * the three largest took 41 s instead of 31 s (docs/performance.md): the workers stay.
 * `onIndex` is told each index's name and build time (milliseconds).
 */
export async function restoreIndexes(
  client: Client,
  dropped: readonly DroppedIndex[],
  onIndex?: (done: number, total: number, index?: { name: string; table: string; ms: number }) => void,
): Promise<void> {
  await client.query(`SET LOCAL maintenance_work_mem = '1536MB'`);
  let done = 0;
  for (const index of dropped) {
    const t = Date.now();
    await client.query(index.restore);
    onIndex?.(++done, dropped.length, { name: index.name, table: index.table, ms: Date.now() - t });
  }
}

/**
 * For COPY ... WITH (FREEZE): PostgreSQL writes the rows frozen and their pages all-visible, so that nothing has to
 * come back later to set every row's hint bits and freeze it (the first reader, then VACUUM, each rewriting every
 * page: a million patients are about 29 million rows). It allows FREEZE only into a table created or truncated in
 * the same transaction. So: when the seeded tables hold no row (an empty database, or one whose only clinic is the
 * one being replaced, deleted earlier in this transaction), they are truncated here (with the tables whose foreign
 * keys point at them, which TRUNCATE requires in the same statement), after locking them all and checking that
 * every one is empty: nothing visible is lost. Partitioned tables are left out (FREEZE refuses them) unless
 * TRUNCATE needs them. Returns the tables that COPY may load with FREEZE (none when any table holds a row).
 * Other sessions' older snapshots see the frozen rows once committed (COPY FREEZE's documented caveat): the seed
 * locks these tables for its whole transaction anyway.
 */
export async function truncateEmptyTables(client: Client, tables: readonly string[]): Promise<Set<string>> {
  // The tables, and every table whose foreign keys reach them (transitively: TRUNCATE wants those in the same statement).
  const { rows } = await client.query<{ tbl: string; kind: string }>(
    `WITH RECURSIVE t(oid) AS (
       SELECT unnest($1::regclass[])::oid
       UNION
       SELECT c.conrelid FROM pg_constraint c JOIN t ON c.confrelid = t.oid WHERE c.contype = 'f' AND c.conparentid = 0
     )
     SELECT t.oid::regclass::text AS tbl, r.relkind::text AS kind FROM t JOIN pg_class r ON r.oid = t.oid ORDER BY 1`,
    [tables],
  );
  const all = rows.map((r) => client.escapeIdentifier(r.tbl)).join(', ');
  await client.query(`LOCK TABLE ${all} IN ACCESS EXCLUSIVE MODE`);
  for (const r of rows) {
    const { rows: any } = await client.query(`SELECT 1 FROM ${client.escapeIdentifier(r.tbl)} LIMIT 1`);
    if (any.length > 0) return new Set();
  }
  await client.query(`TRUNCATE ${all}`);
  return new Set(rows.filter((r) => r.kind === 'r' && tables.includes(r.tbl)).map((r) => r.tbl));
}
