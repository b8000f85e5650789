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
 * organization), on the owner's connection (src/database/owner-connection.ts), as OpportunitiesPartitionSwap's; the
 * rows themselves are written by two runtime-role transactions, under row-level security (the policies of the tables
 * they read, the tenant CHECK of the fresh tables they write). Names are identifiers built from the organization id
 * (a uuid), never from input.
 */
export class EngagementPartitionSwap {
  readonly days: PartitionTables;
  /** Only `fresh` is used: the partial steps' table. */
  readonly steps: PartitionTables;

  constructor(
    private readonly db: OwnerConnection,
    organizationId: string,
    shared: boolean,
  ) {
    this.days = partitionTables(DAYS, organizationId, shared);
    this.steps = partitionTables(PARTIAL_STEPS, organizationId);
  }

  /** Leftovers of a run that died: its tables (not attached: dropping them locks nothing else). */
  async cleanUp(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.days.fresh}, ${this.steps.fresh}`);
  }

  /**
   * The fresh tables: the parents' columns, defaults and checks, no index, the partition's bound as a CHECK, INSERT
   * alone granted to the runtime role and only for its organization's rows (createFreshTable). Fillfactor 100: the
   * rows are written once, the per-patient patches delete and insert them, and the next rebuild is a swap again.
   */
  async createFresh(): Promise<void> {
    await createFreshTable(this.db, DAYS, this.days);
    await createFreshTable(this.db, PARTIAL_STEPS, this.steps);
  }

  /** Once the rows are in: no grant, no tenant CHECK, row-level security on (no policy), as every partition has it. */
  async seal(): Promise<void> {
    await sealFreshTable(this.db, DAYS, this.days);
    await sealFreshTable(this.db, PARTIAL_STEPS, this.steps);
  }

  /** The planner's statistics of the partition (the overview reads it by first day and by patient). */
  async analyzeFresh(): Promise<void> {
    await this.db.query(`ANALYZE ${this.days.fresh}`);
  }

  /** One statement per index of the parent (its definition with the table replaced), the primary key's as a unique index. */
  async indexStatements(): Promise<string[]> {
    return freshIndexStatements(this.db, DAYS, this.days);
  }

  /** The primary key on the unique index built, then the parent's foreign key added NOT VALID and validated before the swap. */
  async addConstraints(): Promise<void> {
    await addPrimaryKeyOnUniqueIndex(this.db, this.days);
    await addForeignKeysValidated(this.db, DAYS, this.days);
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

  /** The fresh table takes the organization's place (under lockForSwap): partition-tables.ts' replacePartition. */
  async replacePartition(): Promise<void> {
    await replacePartition(this.db, DAYS, this.days, ENGAGEMENT_DAYS_SHARED_PARTITION);
  }

  /** The partial steps, once summed into the organization's steps (after the swap's commit). */
  async dropPartialSteps(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.steps.fresh}`);
  }
}
