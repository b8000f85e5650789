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

/** The shared DEFAULT partition's CHECK that keeps out an organization with a partition of its own (ATTACH then scans nothing). */
export function partitionExclusionName(p: PartitionedTable, t: PartitionTables): string {
  return `ck_${p.short}_default_not_${t.organizationId.replaceAll('-', '')}`;
}

/**
 * The tenant rule of the parent's policy (`organization_id = the session's organization`) as a CHECK on a fresh table
 * the runtime role fills (COPY FROM and the build's INSERT into a table outside the policy); `IS TRUE`: a session
 * without an organization (null) is refused, as the policy refuses it. Dropped when the table is sealed.
 */
export const FRESH_TENANT_PREDICATE = `(organization_id = nullif(current_setting('app.organization_id', true), '')::uuid) IS TRUE`;

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

/**
 * The statements that build the parent's indexes on the fresh table (each parent index's definition with the table
 * replaced and the partition index's name; the primary key's as a unique index), primary key first.
 */
export async function freshIndexStatements(db: OwnerConnection, p: PartitionedTable, t: PartitionTables): Promise<string[]> {
  const rows = await db.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = $1::regclass ORDER BY i.indisprimary DESC, c.relname`,
    [p.table],
  );
  const shape = new RegExp(`^CREATE (UNIQUE )?INDEX \\S+ ON ONLY public\\.${p.table} (USING .*)$`);
  return rows.map(({ name, def }) => {
    const m = shape.exec(def);
    if (!m) throw new Error(`unexpected index definition: ${def}`);
    return `CREATE ${m[1] ?? ''}INDEX ${partitionIndexName(p, t, name, true)} ON ${t.fresh} ${m[2]}`;
  });
}

/** The fresh table's primary key, on the unique index built for it (freshIndexStatements). */
export async function addPrimaryKeyOnUniqueIndex(db: OwnerConnection, t: PartitionTables): Promise<void> {
  const [pk] = await db.query<{ name: string }>(
    `SELECT i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique`,
    [t.fresh],
  );
  await db.query(`ALTER TABLE ${t.fresh} ADD PRIMARY KEY USING INDEX ${pk.name}`);
}

/**
 * The parent's foreign keys on the fresh table, each added NOT VALID (a moment's lock of the referenced table) and
 * then validated (a read of both that blocks neither's readers nor the referenced table's writers): ATTACH adopts a
 * valid foreign key of the same definition instead of adding and validating it under the swap's locks.
 */
export async function addForeignKeysValidated(db: OwnerConnection, p: PartitionedTable, t: PartitionTables): Promise<void> {
  const fks = await db.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname`,
    [p.table],
  );
  for (const fk of fks) {
    await db.query(`ALTER TABLE ${t.fresh} ADD CONSTRAINT ${fk.name} ${fk.def} NOT VALID`);
    await db.query(`ALTER TABLE ${t.fresh} VALIDATE CONSTRAINT ${fk.name}`);
  }
}
