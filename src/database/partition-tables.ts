import { RUNTIME_ROLE } from 'src/database/database';
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

/** The fresh table's CHECK with the tenant policy's rule while the runtime role fills it (FRESH_TENANT_PREDICATE). */
const freshTenantCheck = (p: PartitionedTable): string => `ck_${p.table}_rebuild_tenant`;

/**
 * The fresh table of a build and swap: the parent's columns, defaults and checks, no index, and the partition's bound
 * as a CHECK (`ck_<table>_partition`, so that ATTACH need not scan it). While it is filled the runtime role may only
 * insert into it (INSERT granted, nothing else), and only its organization's rows: the bound names the organization,
 * and the tenant CHECK (FRESH_TENANT_PREDICATE) refuses a session bound to another organization or to none. A CHECK,
 * not a policy: COPY FROM is refused on a table under row-level security. `sealFreshTable` takes both away.
 */
export async function createFreshTable(
  db: OwnerConnection,
  p: PartitionedTable,
  t: PartitionTables,
  options: { fillfactor?: number } = {},
): Promise<void> {
  const storage = options.fillfactor === undefined ? '' : ` WITH (fillfactor = ${Math.floor(options.fillfactor)})`;
  await db.query(`CREATE TABLE ${t.fresh} (LIKE ${p.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)${storage}`);
  await db.query(`ALTER TABLE ${t.fresh} ADD CONSTRAINT ck_${p.table}_partition CHECK (organization_id = '${t.organizationId}'::uuid)`);
  await db.query(`ALTER TABLE ${t.fresh} ADD CONSTRAINT ${freshTenantCheck(p)} CHECK (${FRESH_TENANT_PREDICATE})`);
  await db.query(`REVOKE ALL ON ${t.fresh} FROM ${RUNTIME_ROLE}`);
  await db.query(`GRANT INSERT ON ${t.fresh} TO ${RUNTIME_ROLE}`);
}

/**
 * Once the rows are in: the runtime role's grant and the tenant CHECK go, and row-level security is turned on (no
 * policy: a partition is reached through the parent), as every partition has it. The ALTER waits for any insert
 * still in flight.
 */
export async function sealFreshTable(db: OwnerConnection, p: PartitionedTable, t: PartitionTables): Promise<void> {
  await db.query(`REVOKE ALL ON ${t.fresh} FROM ${RUNTIME_ROLE}`);
  await db.query(`ALTER TABLE ${t.fresh} DROP CONSTRAINT ${freshTenantCheck(p)}, ENABLE ROW LEVEL SECURITY`);
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

/**
 * The fresh table takes the organization's place (under the caller's swap locks). With its own partition: the old one
 * is dropped (DROP of a partition locks only the parent, where DETACH would also lock the referenced tables to give its
 * foreign keys triggers of their own). From the shared DEFAULT partition `sharedPartition` (its first swap): its rows
 * deleted there, the exclusion CHECK added (one scan of the shared partition, which ATTACH would make; later swaps need
 * none). Then ATTACH, which adopts the fresh table's foreign keys (validated before: addForeignKeysValidated) and its
 * indexes; the table and its indexes renamed. (The opportunities' and the engagement rollup's swaps.)
 */
export async function replacePartition(db: OwnerConnection, p: PartitionedTable, t: PartitionTables, sharedPartition: string): Promise<void> {
  if (t.shared) {
    await db.query(`DELETE FROM ${sharedPartition} WHERE organization_id = $1`, [t.organizationId]);
    const exclusion = partitionExclusionName(p, t);
    const existing = await db.query(`SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2`, [sharedPartition, exclusion]);
    if (existing.length === 0)
      await db.query(`ALTER TABLE ${sharedPartition} ADD CONSTRAINT ${exclusion} CHECK (organization_id <> '${t.organizationId}'::uuid)`);
  } else {
    await db.query(`DROP TABLE ${t.live}`);
  }
  await db.query(`ALTER TABLE ${p.table} ATTACH PARTITION ${t.fresh} FOR VALUES IN ('${t.organizationId}')`);
  await db.query(`ALTER TABLE ${t.fresh} RENAME TO ${t.live}`);
  const indexes = await db.query<{ name: string; parent: string }>(
    `SELECT c.relname AS name, p.relname AS parent FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_inherits h ON h.inhrelid = i.indexrelid JOIN pg_class p ON p.oid = h.inhparent
      WHERE i.indrelid = $1::regclass`,
    [t.live],
  );
  for (const { name, parent } of indexes) await db.query(`ALTER INDEX ${name} RENAME TO ${partitionIndexName(p, t, parent, false)}`);
}

/**
 * What a deleted organization leaves in the partitioned tables once its rows are gone (the seed's replacement,
 * src/demo-data/seed.ts): its own partitions (an organization that took a build-and-swap path: `patient_metrics_<id>`,
 * `reengagement_opps_<id>`, `engagement_days_<id>`), found by their bound (FOR VALUES IN the organization) whatever the
 * table, and the shared DEFAULT partitions' exclusion CHECKs naming it (partitionExclusionName), which every later
 * insert into a shared partition would evaluate. Returns the partitions and CHECKs dropped (`table` or `table.check`).
 * `query`: the caller's connection, in its transaction.
 */
export async function dropOrganizationPartitions(
  query: <R>(sql: string, params: unknown[]) => Promise<R[]>,
  organizationId: string,
): Promise<string[]> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(organizationId)) throw new Error('not an organization id');
  const partitions = await query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_class c
      WHERE c.relispartition AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', $1::text) ORDER BY 1`,
    [organizationId.toLowerCase()],
  );
  const checks = await query<{ tbl: string; name: string }>(
    `SELECT c.conrelid::regclass::text AS tbl, c.conname AS name FROM pg_constraint c
      WHERE c.contype = 'c' AND c.conname LIKE 'ck\\_%\\_default\\_not\\_' || $1 ORDER BY 1, 2`,
    [organizationId.toLowerCase().replaceAll('-', '')],
  );
  for (const { name } of partitions) await query(`DROP TABLE ${name}`, []);
  for (const { tbl, name } of checks) await query(`ALTER TABLE ${tbl} DROP CONSTRAINT ${name}`, []);
  return [...partitions.map((p) => p.name), ...checks.map((c) => `${c.tbl}.${c.name}`)];
}

/** The fresh table's primary key, on the unique index built for it (freshIndexStatements). */
export async function addPrimaryKeyOnUniqueIndex(db: OwnerConnection, t: PartitionTables): Promise<void> {
  const [pk] = await db.query<{ name: string }>(
    `SELECT i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique`,
    [t.fresh],
  );
  await db.query(`ALTER TABLE ${t.fresh} ADD PRIMARY KEY USING INDEX ${pk.name}`);
}

/** How long a swap's statement waits for each of its locks before it gives up and tries again (below deadlock_timeout, 1 s). */
const SWAP_LOCK_TIMEOUT_MS = 200;
/**
 * How long a swap keeps trying before its run fails (the live partition is then left as it was, the night's work
 * lost). Long: after each organization's recompute the app refreshes its opportunities, one statement that reads
 * `patient_metrics` for about 3.5 minutes at a million patients, and the nightly job's next large organization
 * would otherwise give up behind it. Each attempt waits only SWAP_LOCK_TIMEOUT_MS, so readers never queue long.
 */
const SWAP_TRY_FOR_MS = 15 * 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isLockTimeout(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === '55P03' || code === '40P01'; // lock_not_available, deadlock_detected
}

/**
 * Runs `work` in a transaction with a short lock_timeout, again after a pause while it fails for want of a lock,
 * for up to SWAP_TRY_FOR_MS: waiting for a lock queues every later conflicting statement behind it (for the swap's
 * ACCESS EXCLUSIVE lock, every reader), so the wait is kept short and retried rather than long. Used by both swaps
 * (the metrics' rebuild, the opportunities' refresh) for every statement that locks a table others use.
 */
export async function withShortLocks<T>(client: OwnerConnection, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT_MS}ms'`);
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!isLockTimeout(err) || Date.now() - started > SWAP_TRY_FOR_MS) throw err;
      await sleep(Math.min(2_000, 100 * attempt) + Math.random() * 100);
    }
  }
}

/**
 * A fresh table's index builds on two owner connections at once (each takes the next statement as soon as it is free):
 * the builds are CPU-bound, one core each. Rejects with the first failure (the other connection finishes its build).
 */
export async function buildOnBoth(connections: readonly [OwnerConnection, OwnerConnection], statements: readonly string[]): Promise<void> {
  let next = 0;
  const build = async (c: OwnerConnection): Promise<void> => {
    while (next < statements.length) await c.query(statements[next++]);
  };
  await Promise.all(connections.map(build));
}

/**
 * The parent's foreign keys on the fresh table, each added NOT VALID (under short locks, withShortLocks: it locks the
 * referenced table against its writers for a moment, and must not queue them behind a long transaction of theirs)
 * and then validated (a read of both that blocks neither's readers nor the referenced table's writers): ATTACH adopts
 * a valid foreign key of the same definition instead of adding and validating it under the swap's locks. Outside a
 * transaction.
 */
export async function addForeignKeysValidated(db: OwnerConnection, p: PartitionedTable, t: PartitionTables): Promise<void> {
  const fks = await db.query<{ name: string; def: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname`,
    [p.table],
  );
  for (const fk of fks) {
    await withShortLocks(db, () => db.query(`ALTER TABLE ${t.fresh} ADD CONSTRAINT ${fk.name} ${fk.def} NOT VALID`));
    await db.query(`ALTER TABLE ${t.fresh} VALIDATE CONSTRAINT ${fk.name}`);
  }
}

/**
 * The DDL of a build and swap of one organization's partition of `p` (the opportunities' refresh, the engagement
 * rollup's rebuild), on the owner's connection: the fresh table created for the runtime role to fill, sealed, analyzed,
 * its indexes built on two connections and its keys added, then swapped in for the organization's partition (or moved
 * out of the shared one, `sharedPartition`). Subclasses add the swap's locks (`lockForSwap`) and any table of their own.
 * Names are identifiers built from the organization id (a uuid), never from input.
 */
export abstract class PartitionSwap {
  constructor(
    protected readonly db: OwnerConnection,
    protected readonly p: PartitionedTable,
    readonly tables: PartitionTables,
    private readonly sharedPartition: string,
  ) {}

  /** Leftovers of a run that died: its table (not attached: dropping it locks nothing else). */
  async cleanUp(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.tables.fresh}`);
  }

  /**
   * The fresh table: the parent's columns, defaults and checks, no index, the partition's bound as a CHECK (so that
   * ATTACH need not scan it), INSERT alone granted to the runtime role and only for its organization's rows
   * (createFreshTable). Fillfactor 100: the build writes every row once.
   */
  async createFresh(): Promise<void> {
    await createFreshTable(this.db, this.p, this.tables);
  }

  /** Once the rows are in: no grant, no tenant CHECK, row-level security on (no policy), as every partition has it. */
  async seal(): Promise<void> {
    await sealFreshTable(this.db, this.p, this.tables);
  }

  /**
   * ANALYZE (the planner's statistics of the partition), not VACUUM: the rows' hint bits are set by their first
   * readers, and autovacuum visits the table after its inserts.
   */
  async analyzeFresh(): Promise<void> {
    await this.db.query(`ANALYZE ${this.tables.fresh}`);
  }

  /** One statement per index of the parent (its definition with the table replaced), the primary key's as a unique index. */
  async indexStatements(): Promise<string[]> {
    return freshIndexStatements(this.db, this.p, this.tables);
  }

  /**
   * The indexes built on this connection and a second one (`second`, opened for it and closed after: the builds are
   * CPU-bound, one core each), then the primary key on the unique index built, then the parent's foreign keys added
   * NOT VALID and validated before the swap, so that ATTACH adopts them instead of validating them under its locks.
   */
  async buildIndexesAndKeys(second: () => Promise<OwnerConnection>): Promise<void> {
    const settings = `SET maintenance_work_mem = '256MB'; SET max_parallel_maintenance_workers = 0`;
    await this.db.query(settings);
    const other = await second();
    try {
      await other.query(settings);
      await buildOnBoth([this.db, other], await this.indexStatements());
    } finally {
      await other.end();
    }
    await addPrimaryKeyOnUniqueIndex(this.db, this.tables);
    await addForeignKeysValidated(this.db, this.p, this.tables);
  }

  /** The swap's locks, each statement waiting at most the caller's lock_timeout. */
  abstract lockForSwap(): Promise<void>;

  /** The fresh table takes the organization's place (under lockForSwap): replacePartition. */
  async replacePartition(): Promise<void> {
    await replacePartition(this.db, this.p, this.tables, this.sharedPartition);
  }
}

/**
 * A build and swap's frame on its owner connection (`owner`, closed after): the organization's advisory lock taken
 * session-level (`lock.keySql`: SQL of the key, with $1 the organization id; the key the patches' transactions take), then
 * `work`; on a failure the owner's transaction rolled back and the fresh tables dropped (`swap.cleanUp`, under short
 * lock waits), so that the live rows stay as they were; the lock let go either way.
 */
export async function inSwapFrame<T, S extends { cleanUp(): Promise<void> }>(
  owner: OwnerConnection,
  lock: { keySql: string; organizationId: string },
  swapFor: (owner: OwnerConnection) => Promise<S>,
  work: (swap: S) => Promise<T>,
): Promise<T> {
  try {
    await owner.query(`SELECT pg_advisory_lock(${lock.keySql})`, [lock.organizationId]);
    try {
      const swap = await swapFor(owner);
      try {
        return await work(swap);
      } catch (err) {
        await owner.query('ROLLBACK').catch(() => undefined);
        await withShortLocks(owner, () => swap.cleanUp()).catch(() => undefined);
        throw err;
      }
    } finally {
      await owner.query(`SELECT pg_advisory_unlock(${lock.keySql})`, [lock.organizationId]).catch(() => undefined);
    }
  } finally {
    await owner.end();
  }
}
