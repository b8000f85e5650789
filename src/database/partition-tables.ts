import type { OwnerConnection } from 'src/database/owner-connection';

/**
 * The names a build and swap of one organization's partition works with (the metrics' rebuild,
 * src/scoring/recompute/metrics-partition.repository.ts; the opportunities' refresh,
 * src/opportunities/opportunities-partition-swap.ts). Built from the organization id (a uuid), never from input.
 */
export interface PartitionTables {
  organizationId: string;
  /** The organization's own partition, `<prefix>_<id without dashes>`, once it has one. */
  live: string;
  /** The table being built, swapped in under the live one's name. */
  fresh: string;
  /**
   * Whether the organization's rows are in the table's shared DEFAULT partition (it has no partition of its own yet):
   * the swap then moves them out of it instead of replacing a partition.
   */
  shared: boolean;
}

/** A partitioned table's names for its partitions and their indexes. */
export interface PartitionedTable {
  /** The parent table, whose indexes are `pk_<table>` and `idx_<table>_<suffix>`. */
  table: string;
  /** The start of its partitions' names (`<prefix>_<id without dashes>`). */
  prefix: string;
  /** The start of their indexes' names (`<short>_…`; `<short>r_…` while the index is the fresh table's). */
  short: string;
}

export function partitionTables(p: PartitionedTable, organizationId: string, shared = false): PartitionTables {
  const live = `${p.prefix}_${organizationId.replaceAll('-', '')}`;
  return { organizationId, live, fresh: `${live}_rebuild`, shared };
}

/** Whether the organization has a partition of its own (else its rows are in the shared one). */
export async function hasOwnPartitionOf(db: OwnerConnection, p: PartitionedTable, organizationId: string): Promise<boolean> {
  const [row] = await db.query<{ own: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS own`, [partitionTables(p, organizationId).live]);
  return row.own;
}

/**
 * A partition index's name: `<short>_<organization id without dashes>_<the parent index's name without its prefix>`
 * (`pkey` for the primary key), `<short>r_` while it is the fresh table's (renamed by the swap); at most 63 characters.
 */
export function partitionIndexName(p: PartitionedTable, t: PartitionTables, parentIndex: string, fresh: boolean): string {
  const prefix = `idx_${p.table}_`;
  const suffix = parentIndex === `pk_${p.table}` ? 'pkey' : parentIndex.startsWith(prefix) ? parentIndex.slice(prefix.length) : parentIndex;
  return `${fresh ? `${p.short}r` : p.short}_${t.organizationId.replaceAll('-', '')}_${suffix}`.slice(0, 63);
}
