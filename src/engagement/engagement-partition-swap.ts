import type { OwnerConnection } from 'src/database/owner-connection';
import {
  createFreshTable,
  hasOwnPartitionOf,
  type PartitionedTable,
  PartitionSwap,
  partitionTables,
  type PartitionTables,
  sealFreshTable,
} from 'src/database/partition-tables';

/**
 * The DEFAULT partition of `engagement_patient_days` (migration 1795568500000): every organization without a partition
 * of its own, that is every organization whose rollup has never taken the build-and-swap path.
 */
export const ENGAGEMENT_DAYS_SHARED_PARTITION = 'engagement_patient_days_default';

/** `engagement_patient_days`' partitions (`engagement_days_<id>`) and their indexes (`epd_<id>_…`, `epdr_` while fresh). */
const DAYS: PartitionedTable = { table: 'engagement_patient_days', prefix: 'engagement_days', short: 'epd' };

/**
 * The halves' partial steps while a build runs (`engagement_steps_<id>_rebuild`): `engagement_visit_gaps`' columns
 * without its key (a step may come from both halves), summed into the organization's steps by the swap, then dropped.
 */
const PARTIAL_STEPS: PartitionedTable = { table: 'engagement_visit_gaps', prefix: 'engagement_steps', short: 'evs' };

/** Whether the organization has an `engagement_patient_days` partition of its own (else its rows are in the shared one). */
export const hasOwnEngagementPartition = (db: OwnerConnection, organizationId: string): Promise<boolean> =>
  hasOwnPartitionOf(db, DAYS, organizationId);

/**
 * The DDL of a build and swap of one organization's engagement rollup (EngagementRollupService's path for a large
 * organization), on the owner's connection (src/database/owner-connection.ts): PartitionSwap's steps for
 * `engagement_patient_days`, with this table's locks, and the table of the halves' partial steps besides; the rows
 * themselves are written by two runtime-role transactions, under row-level security (the policies of the tables they
 * read, the tenant CHECK of the fresh tables they write). The fresh table at fillfactor 100: its rows are written
 * once, the per-patient patches delete and insert them, and the next rebuild is a swap again.
 */
export class EngagementPartitionSwap extends PartitionSwap {
  /** Only `fresh` is used: the partial steps' table. */
  readonly steps: PartitionTables;

  constructor(db: OwnerConnection, organizationId: string, shared: boolean) {
    super(db, DAYS, partitionTables(DAYS, organizationId, shared), ENGAGEMENT_DAYS_SHARED_PARTITION);
    this.steps = partitionTables(PARTIAL_STEPS, organizationId);
  }

  /** Leftovers of a run that died: its tables (not attached: dropping them locks nothing else). */
  override async cleanUp(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.tables.fresh}, ${this.steps.fresh}`);
  }

  /** The fresh table and the partial steps' (createFreshTable: INSERT alone granted, the organization's rows only). */
  override async createFresh(): Promise<void> {
    await super.createFresh();
    await createFreshTable(this.db, PARTIAL_STEPS, this.steps);
  }

  override async seal(): Promise<void> {
    await super.seal();
    await sealFreshTable(this.db, PARTIAL_STEPS, this.steps);
  }

  /**
   * The swap's locks, each statement waiting at most the caller's lock_timeout: the parent (and so every partition)
   * against every reader and writer of the rollup's patients; `organizations` in SHARE ROW EXCLUSIVE mode, which
   * ATTACH needs to add the foreign key's triggers (its readers do not wait).
   */
  async lockForSwap(): Promise<void> {
    await this.db.query(`LOCK TABLE engagement_patient_days IN ACCESS EXCLUSIVE MODE`);
    await this.db.query(`LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE`);
  }

  /** The partial steps, once summed into the organization's steps (after the swap's commit). */
  async dropPartialSteps(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.steps.fresh}`);
  }
}
