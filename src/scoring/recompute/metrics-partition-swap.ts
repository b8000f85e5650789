import type { OwnerConnection } from 'src/database/owner-connection';
import { buildOnBoth, withShortLocks } from 'src/database/partition-tables';
import type { BatchTenantSql } from 'src/database/tenant/tenant-sql';
import type { PatientScores } from 'src/scoring/patient-scores';
import {
  hasOwnPartition,
  MetricsPartitionRepository,
  rebuildTables,
  type RebuildTables,
  writeChunkToFresh,
} from 'src/scoring/recompute/metrics-partition.repository';

/**
 * From this many live patients an organization-wide recompute rebuilds the organization's metrics partition and swaps
 * it in instead of updating its rows (`write: 'auto'`). Measured on a 100,000-patient clinic (docs/scoring.md,
 * "Organization-wide recompute"): the rebuild's fixed costs (the swap's locks, a table and ten index builds, the
 * foreign keys' validation) are a few hundred milliseconds, the update path's writes grow with the rows and the
 * ten indexes; below one chunk the update path keeps its simplicity (and its HOT updates). It is also the size from
 * which an organization has a partition of its own (its first rebuild moves it out of the shared one); an organization
 * that shrinks below it keeps its partition and is updated in place.
 */
export const REBUILD_MIN_PATIENTS = 50_000;

export type MetricsWriteMode = 'auto' | 'rebuild' | 'update';

export interface RebuildHooks {
  /** Called after the fresh table is complete (indexes, keys, counts) and before the swap: tests write meanwhile. */
  beforeSwap?: () => Promise<void>;
}

/**
 * "Rebuild and swap" of one organization's `patient_metrics` partition (migrations 1795566900000, 1795567900000): the
 * organization-wide recompute writes each chunk's rows into a fresh table without indexes (`writeChunk`, on its own
 * runtime-role connections), then `finish` sets its visibility map and statistics, builds its indexes on two owner
 * connections, adds its keys and swaps it in, in one short transaction, for the live partition. The table's DDL,
 * index builds and swap are the owner's (src/database/owner-connection.ts); the rows are written under row-level
 * security.
 *
 * Writes of the request path to the live partition meanwhile (an ingestion's recompute, a soft delete's row
 * delete) are not lost: `start` puts a row trigger on the live partition that logs each touched patient
 * (`patient_metrics_rebuild_log`, in the writer's transaction, so only committed writes are logged), and the swap,
 * once it holds its locks (no writer in flight), copies those patients' live rows over the fresh ones, or deletes the
 * fresh row of a patient whose live row is gone.
 *
 * An organization without a partition of its own (every organization until its first rebuild: its rows are in the
 * shared DEFAULT partition, 1795567900000) gets one here: the log triggers go on the shared partition for its rows
 * only, and the swap deletes its rows from the shared partition and attaches the fresh table as its partition, in the
 * same transaction and under the same locks (readers see all its rows before, or all after). Its later rebuilds
 * replace that partition.
 *
 * A failed run (`abandon`) drops the fresh table and the triggers: the live rows are as the request path left them.
 */
export class MetricsRebuild {
  private readonly tables: RebuildTables;

  private constructor(
    organizationId: string,
    shared: boolean,
  ) {
    this.tables = rebuildTables(organizationId, shared);
  }

  private repo(client: OwnerConnection): MetricsPartitionRepository {
    return new MetricsPartitionRepository(client, this.tables);
  }

  /**
   * Creates the fresh table and starts logging the writes to the organization's live rows (its partition, or its rows
   * of the shared partition when it has none yet), on the owner's connection: before the first chunk is read.
   */
  static async start(client: OwnerConnection, organizationId: string): Promise<MetricsRebuild> {
    const rebuild = new MetricsRebuild(organizationId, !(await hasOwnPartition(client, organizationId)));
    const repo = rebuild.repo(client);
    await withShortLocks(client, () => repo.cleanUp());
    try {
      await repo.createFresh();
      await withShortLocks(client, () => repo.startLog());
    } catch (err) {
      await rebuild.abandon(client);
      throw err;
    }
    return rebuild;
  }

  /** One chunk's scores into the fresh table (and its history rows), on a run's connection; the caller owns the transaction. */
  writeChunk(db: BatchTenantSql, scores: readonly PatientScores[], now: Date, today: string): Promise<void> {
    return writeChunkToFresh(db, this.tables, scores, now, today);
  }

  /**
   * VACUUM (ANALYZE), the indexes on both connections (each takes the next as soon as it is free), the keys and the
   * fresh table's groups, then the swap on the first connection. Returns the patients taken over from the live
   * rows, and how long the swap held its locks (from their grant to the commit: every reader of `patient_metrics`
   * waits meanwhile).
   */
  async finish(connections: readonly [OwnerConnection, OwnerConnection], hooks: RebuildHooks = {}): Promise<{ takenOver: number; swapMs: number }> {
    const [first, second] = connections;
    const repo = this.repo(first);
    for (const c of connections) await c.query(`SET maintenance_work_mem = '256MB'; SET max_parallel_maintenance_workers = 0`);
    await repo.seal();
    await repo.vacuumFresh();
    await buildOnBoth(connections, await repo.indexStatements());
    const [groups] = await Promise.all([this.repo(second).freshGroups(), repo.addConstraints()]);
    // An organization with its own partition whose shared-partition CHECK is missing (its partition predates
    // 1795567900000): added now, outside the swap's locks, so that its ATTACH does not scan the shared partition.
    if (!this.tables.shared && !(await repo.hasExclusion())) {
      await withShortLocks(first, () => repo.addExclusionNotValid());
      await repo.validateExclusion();
    }
    await hooks.beforeSwap?.();
    let locked = 0;
    const takenOver = await withShortLocks(first, async () => {
      await repo.lockForSwap();
      locked = Date.now();
      const n = await repo.takeOverAndCount(groups);
      await repo.replacePartition();
      return n;
    });
    return { takenOver, swapMs: Date.now() - locked };
  }

  /** Drops the fresh table and the log trigger (best effort: the next run cleans up what is left). */
  async abandon(client: OwnerConnection): Promise<void> {
    await client.query('ROLLBACK').catch(() => undefined);
    await withShortLocks(client, () => this.repo(client).cleanUp()).catch(() => undefined);
  }
}
