import type { OwnerConnection } from 'src/database/owner-connection';
import { hasOwnPartitionOf, type PartitionedTable, PartitionSwap, partitionTables, type PartitionTables } from 'src/database/partition-tables';

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
 * organization), on the owner's connection (src/database/owner-connection.ts): PartitionSwap's steps, with this
 * table's locks; the rows themselves are written by the refresh's runtime-role transactions, under row-level security
 * (the policies of the parent they read, the tenant CHECK of the fresh table they write). The fresh table at
 * fillfactor 100: the build writes every row once, and the per-patient patches delete and insert (no updates).
 */
export class OpportunitiesPartitionSwap extends PartitionSwap {
  constructor(db: OwnerConnection, tables: OpportunityTables) {
    super(db, OPPORTUNITIES, tables, OPPORTUNITIES_SHARED_PARTITION);
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
}
