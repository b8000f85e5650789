import type { OwnerConnection } from 'src/database/owner-connection';
import {
  addForeignKeysValidated,
  addPrimaryKeyOnUniqueIndex,
  createFreshTable,
  freshIndexStatements,
  hasOwnPartitionOf,
  type PartitionedTable,
  partitionTables,
  type PartitionTables,
  replacePartition,
  sealFreshTable,
} from 'src/database/partition-tables';

/**
 * The DEFAULT partition of `reengagement_opportunities` (migration 1795568400000): every organization without a
 * partition of its own, that is every organization whose refresh has never taken the build-and-swap path.
 */
export const OPPORTUNITIES_SHARED_PARTITION = 'reengagement_opportunities_default';

/** `reengagement_opportunities`' partitions (`reengagement_opps_<id>`) and their indexes (`ro_<id>_…`, `ror_` while fresh). */
const OPPORTUNITIES: PartitionedTable = { table: 'reengagement_opportunities', prefix: 'reengagement_opps', short: 'ro' };

/** The names a build and swap of one organization's opportunities works with. */
export type OpportunityTables = PartitionTables;

export const opportunityTables = (organizationId: string, shared = false): OpportunityTables =>
  partitionTables(OPPORTUNITIES, organizationId, shared);

/** Whether the organization has an opportunities partition of its own (else its rows are in the shared one). */
export const hasOwnOpportunitiesPartition = (db: OwnerConnection, organizationId: string): Promise<boolean> =>
  hasOwnPartitionOf(db, OPPORTUNITIES, organizationId);

/**
 * The DDL of a build and swap of one organization's opportunities (OpportunitiesRefresher's path for a large
 * organization), on the owner's connection (src/database/owner-connection.ts); the rows themselves are written by the
 * refresh's runtime-role transaction, under row-level security (the policies of the parent it reads, the tenant CHECK
 * of the fresh table it writes). Names are identifiers built from the organization id (a uuid), never from input.
 */
export class OpportunitiesPartitionSwap {
  constructor(
    private readonly db: OwnerConnection,
    readonly tables: OpportunityTables,
  ) {}

  /** Leftovers of a run that died: its table (not attached: dropping it locks nothing else). */
  async cleanUp(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.tables.fresh}`);
  }

  /**
   * The fresh table: the parent's columns, defaults and checks, no index, and the partition's bound as a CHECK (so
   * that ATTACH need not scan it). The runtime role may only insert into it, only its organization's rows (the bound,
   * and the tenant CHECK: the tenant policy's rule; createFreshTable); `seal` takes both away before the indexes are
   * built.
   * Fillfactor 100: the build writes every row once, and the per-patient patches delete and insert (no updates).
   */
  async createFresh(): Promise<void> {
    await createFreshTable(this.db, OPPORTUNITIES, this.tables);
  }

  /** Once the rows are in: no grant, no tenant CHECK, row-level security on (no policy), as every partition has it. */
  async seal(): Promise<void> {
    await sealFreshTable(this.db, OPPORTUNITIES, this.tables);
  }

  /**
   * ANALYZE (the planner's statistics of the partition), not VACUUM: the list reads the heap for every row it returns
   * (no index-only scan), the rows' hint bits are set by their first readers, and autovacuum visits the table after
   * its inserts as it does after the update path's (which leaves a dead version of every changed row besides).
   */
  async analyzeFresh(): Promise<void> {
    await this.db.query(`ANALYZE ${this.tables.fresh}`);
  }

  /** One statement per index of the parent (its definition with the table replaced), the primary key's as a unique index. */
  async indexStatements(): Promise<string[]> {
    return freshIndexStatements(this.db, OPPORTUNITIES, this.tables);
  }

  /**
   * The primary key on the unique index built, then the parent's foreign keys added NOT VALID and validated before the
   * swap (as the metrics' rebuild does), so that ATTACH adopts them instead of validating them under its locks.
   */
  async addConstraints(): Promise<void> {
    await addPrimaryKeyOnUniqueIndex(this.db, this.tables);
    await addForeignKeysValidated(this.db, OPPORTUNITIES, this.tables);
  }

  /**
   * The swap's locks, each statement waiting at most the caller's lock_timeout: the parent (and so every partition)
   * against every reader and writer of the opportunities; `patients` and `organizations` in SHARE ROW EXCLUSIVE mode,
   * which ATTACH needs to add the foreign keys' triggers: their writers wait, their readers (and a patient row locked
   * FOR UPDATE by an erasure waiting for the refresh lock) do not.
   */
  async lockForSwap(): Promise<void> {
    await this.db.query(`LOCK TABLE reengagement_opportunities IN ACCESS EXCLUSIVE MODE`);
    await this.db.query(`LOCK TABLE patients, organizations IN SHARE ROW EXCLUSIVE MODE`);
  }

  /**
   * The fresh table takes the organization's place (under lockForSwap): partition-tables.ts' replacePartition, from the
   * shared partition on the first swap, else replacing the organization's own.
   */
  async replacePartition(): Promise<void> {
    await replacePartition(this.db, OPPORTUNITIES, this.tables, OPPORTUNITIES_SHARED_PARTITION);
  }
}
