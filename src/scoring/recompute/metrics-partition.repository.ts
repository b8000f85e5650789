import type { OwnerConnection } from 'src/database/owner-connection';
import {
  addForeignKeysValidated,
  addPrimaryKeyOnUniqueIndex,
  createFreshTable,
  freshIndexStatements,
  hasOwnPartitionOf,
  partitionIndexName,
  type PartitionedTable,
  partitionTables,
  type PartitionTables,
  partitionExclusionName,
  sealFreshTable,
} from 'src/database/partition-tables';
import type { BatchTenantSql } from 'src/database/tenant/tenant-sql';
import type { PatientScores } from 'src/scoring/patient-scores';
import { FRESH_COPY_COLUMNS, freshCopyBinary, RECORD_HISTORY_ARRAYS_SQL, sortedByPatient } from 'src/scoring/scores/scores-copy';

/**
 * The DEFAULT partition of `patient_metrics` (migration 1795567900000): every organization without a partition of its
 * own, that is every organization whose organization-wide recompute has never taken the rebuild path.
 */
export const SHARED_PARTITION = 'patient_metrics_default';

/** `patient_metrics`' partitions (`patient_metrics_<id>`) and their indexes (`pm_<id>_…`, `pmr_` while fresh). */
const METRICS: PartitionedTable = { table: 'patient_metrics', prefix: 'patient_metrics', short: 'pm' };

/** The names a rebuild of one organization's metrics works with. */
export type RebuildTables = PartitionTables;

export const rebuildTables = (organizationId: string, shared = false): RebuildTables => partitionTables(METRICS, organizationId, shared);

/** Whether the organization has a metrics partition of its own (else its rows are in SHARED_PARTITION). */
export const hasOwnPartition = (db: OwnerConnection, organizationId: string): Promise<boolean> => hasOwnPartitionOf(db, METRICS, organizationId);

const indexName = (t: RebuildTables, parentIndex: string, fresh: boolean): string => partitionIndexName(METRICS, t, parentIndex, fresh);

/** One (status, risk level, trend) group of metrics rows: what `patient_metric_counts` counts. */
export interface MetricsGroup {
  status: string;
  risk_level: string;
  risk_trend: string;
  patients: number;
  last_computed_at: Date | null;
}

const LOG_TRIGGER = 'trg_patient_metrics_rebuild_log';

/**
 * The log triggers of a rebuild: on the organization's own partition, one trigger for every row; on the shared
 * partition, two (an insert or update, a delete: a trigger's WHEN names NEW or OLD, not both) that fire for this
 * organization's rows only, named after it (several organizations may move out of it at once).
 */
function logTriggers(t: RebuildTables): { table: string; triggers: { name: string; events: string; when: string }[] } {
  if (!t.shared) return { table: t.live, triggers: [{ name: LOG_TRIGGER, events: 'INSERT OR UPDATE OR DELETE', when: '' }] };
  const name = `trg_pm_rebuild_log_${t.organizationId.replaceAll('-', '')}`;
  const org = `'${t.organizationId}'::uuid`;
  return {
    table: SHARED_PARTITION,
    triggers: [
      { name: `${name}_w`, events: 'INSERT OR UPDATE', when: `WHEN (NEW.organization_id = ${org})` },
      { name: `${name}_d`, events: 'DELETE', when: `WHEN (OLD.organization_id = ${org})` },
    ],
  };
}

/**
 * The CHECK on the shared partition that keeps an organization with its own partition out of it: with it, ATTACH of
 * the organization's partition (each swap) need not scan the shared partition for its rows (PostgreSQL sees the CHECK
 * imply the shared partition's new bound).
 */
const exclusionName = (t: RebuildTables): string => partitionExclusionName(METRICS, t);

/**
 * The SQL of a rebuild of an organization's metrics (metrics-partition-swap.ts): the DDL, index builds and the swap
 * on the owner's connection (one of the named owner uses, src/database/owner-connection.ts); the chunks' rows on
 * the run's own runtime-role connections (`writeChunk`), under row-level security. Names are identifiers built from
 * the organization id (a uuid), never from input text.
 */
export class MetricsPartitionRepository {
  constructor(
    private readonly db: OwnerConnection,
    private readonly t: RebuildTables,
  ) {}

  /** Leftovers of a run that died: its table, its log triggers and log rows. */
  async cleanUp(): Promise<void> {
    await this.db.query(`DROP TABLE IF EXISTS ${this.t.fresh}`);
    await this.dropLogTriggers();
    await this.db.query(`DELETE FROM patient_metrics_rebuild_log WHERE organization_id = $1`, [this.t.organizationId]);
  }

  /**
   * Drops the log triggers that exist (looked up first: DROP TRIGGER IF EXISTS would lock the table, the shared
   * partition included, even when there is none).
   */
  private async dropLogTriggers(): Promise<void> {
    const { table, triggers } = logTriggers(this.t);
    const existing = await this.db.query<{ name: string }>(
      `SELECT t.tgname AS name FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND t.tgname = ANY($2::text[])`,
      [table, triggers.map((x) => x.name)],
    );
    for (const { name } of existing) await this.db.query(`DROP TRIGGER ${name} ON ${table}`);
  }

  /**
   * The fresh table: the parent's columns, defaults and checks, no index, fillfactor 50, and the partition's bound as
   * a CHECK (so that ATTACH need not scan it). While the run fills it, the runtime role may only insert into it
   * (INSERT granted, nothing else: it cannot read, change or delete a row) and only its organization's rows: the
   * bound's CHECK names the organization, and the tenant CHECK (FRESH_TENANT_PREDICATE) refuses a session bound to
   * another organization or to none, the rule of the tenant policy every table has. That rule is a CHECK here, not a policy, because COPY FROM is
   * refused on a table under row-level security, and the run COPies each chunk straight into this table (measured:
   * a temporary table and an INSERT from it cost 0.3-0.45 s more of the server's CPU per 50,000 rows). `seal` then
   * takes the grant and the CHECK away and turns row-level security on, before the table is vacuumed, indexed and
   * swapped in: like every partition, it is then reached only through the parent, under the parent's policies.
   */
  async createFresh(): Promise<void> {
    await createFreshTable(this.db, METRICS, this.t, { fillfactor: 50 });
  }

  /**
   * Once every chunk is in: the runtime role's grant and the tenant CHECK go, and row-level security is turned on (no
   * policy: the table is a partition's, reached through the parent), as every partition has it. The ALTER waits for
   * any insert still in flight (none: the chunks have committed).
   */
  async seal(): Promise<void> {
    await sealFreshTable(this.db, METRICS, this.t);
  }

  /**
   * From now on every write to the organization's live rows (its partition, or its rows of the shared partition)
   * logs its patient (row triggers: a partition's statement triggers do not fire for statements on the parent).
   * CREATE TRIGGER waits for the partition's writers in flight, so every write that is not logged committed before
   * this returns, hence before any chunk is read.
   */
  async startLog(): Promise<void> {
    const { table, triggers } = logTriggers(this.t);
    for (const { name, events, when } of triggers) {
      await this.db.query(`CREATE TRIGGER ${name} AFTER ${events} ON ${table} FOR EACH ROW ${when} EXECUTE FUNCTION patient_metrics_log_touched()`);
    }
  }

  /** Whether the shared partition has the organization's exclusion CHECK, validated. */
  async hasExclusion(): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2 AND convalidated`,
      [SHARED_PARTITION, exclusionName(this.t)],
    );
    return rows.length > 0;
  }

  /** The exclusion CHECK added NOT VALID (no scan: a moment's lock of the shared partition), unless it is there. */
  async addExclusionNotValid(): Promise<void> {
    const rows = await this.db.query(`SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2`, [SHARED_PARTITION, exclusionName(this.t)]);
    if (rows.length > 0) return;
    await this.db.query(
      `ALTER TABLE ${SHARED_PARTITION} ADD CONSTRAINT ${exclusionName(this.t)} CHECK (organization_id <> '${this.t.organizationId}'::uuid) NOT VALID`,
    );
  }

  /** Validates it: a scan of the shared partition that blocks neither its readers nor its writers. */
  async validateExclusion(): Promise<void> {
    await this.db.query(`ALTER TABLE ${SHARED_PARTITION} VALIDATE CONSTRAINT ${exclusionName(this.t)}`);
  }

  async vacuumFresh(): Promise<void> {
    await this.db.query(`VACUUM (ANALYZE) ${this.t.fresh}`);
  }

  /**
   * The statements that build the fresh table's indexes: one per index of the parent (its definition, pg_get_indexdef,
   * with the table replaced), the primary key's as a unique index (made the constraint by `addConstraints`).
   */
  async indexStatements(): Promise<string[]> {
    return freshIndexStatements(this.db, METRICS, this.t);
  }

  /**
   * The primary key (on the unique index built), then the parent's foreign keys, added NOT VALID (a moment's lock
   * of the referenced tables) and validated (a read, no lock against their writers): ATTACH then adopts them instead
   * of validating them under the swap's lock.
   */
  async addConstraints(): Promise<void> {
    await addPrimaryKeyOnUniqueIndex(this.db, this.t);
    await addForeignKeysValidated(this.db, METRICS, this.t);
  }

  /** The fresh table's groups, as the count triggers would count its rows. */
  async freshGroups(): Promise<MetricsGroup[]> {
    return this.db.query<MetricsGroup>(
      `SELECT status, risk_level, risk_trend, count(*)::int AS patients, max(computed_at) AS last_computed_at
         FROM ${this.t.fresh} GROUP BY status, risk_level, risk_trend`,
    );
  }

  /**
   * Locks what the swap touches, all in one statement at its start (so it never holds one lock while it waits
   * for another longer than `lock_timeout`): the metrics parent (and so every partition), and `organizations` and
   * `patients`, whose foreign-key triggers DETACH and ATTACH replace.
   */
  async lockForSwap(): Promise<void> {
    await this.db.query(`LOCK TABLE patient_metrics, patients, organizations IN ACCESS EXCLUSIVE MODE`);
  }

  /**
   * The swap's take-over and counts (under lockForSwap): the patients whose live row was written during the rebuild
   * (the log) keep their live row, or none when it was deleted; then one delta row per group goes to
   * `patient_metric_counts`, bringing the organization's sums to the fresh table's groups (`groups`: counted before
   * the swap, adjusted here for the rows taken over). Returns the number of patients taken over.
   */
  async takeOverAndCount(groups: readonly MetricsGroup[]): Promise<number> {
    const org = this.t.organizationId;
    await this.db.query(`CREATE TEMP TABLE rebuild_delta (status text, risk_level text, risk_trend text, d bigint, c timestamptz) ON COMMIT DROP`);
    await this.db.query(
      `CREATE TEMP TABLE rebuild_touched ON COMMIT DROP AS
         SELECT DISTINCT patient_id FROM patient_metrics_rebuild_log WHERE organization_id = $1`,
      [org],
    );
    const [{ n }] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM rebuild_touched`);
    await this.db.query(
      `INSERT INTO rebuild_delta SELECT g.status, g.risk_level, g.risk_trend, g.patients, g.last_computed_at
         FROM jsonb_to_recordset($1::jsonb) AS g(status text, risk_level text, risk_trend text, patients bigint, last_computed_at timestamptz)`,
      [JSON.stringify(groups)],
    );
    if (n > 0) {
      await this.db.query(
        `WITH gone AS (DELETE FROM ${this.t.fresh} f USING rebuild_touched t WHERE f.patient_id = t.patient_id RETURNING f.status, f.risk_level, f.risk_trend)
         INSERT INTO rebuild_delta SELECT status, risk_level, risk_trend, -1, NULL FROM gone`,
      );
      await this.db.query(
        `WITH came AS (INSERT INTO ${this.t.fresh} SELECT l.* FROM patient_metrics l JOIN rebuild_touched t ON t.patient_id = l.patient_id
                         WHERE l.organization_id = $1
                        RETURNING status, risk_level, risk_trend, computed_at)
         INSERT INTO rebuild_delta SELECT status, risk_level, risk_trend, 1, computed_at FROM came`,
        [org],
      );
    }
    // The organization's counts are exactly the live partition's groups (the count triggers keep them, and nothing
    // writes the partition under the lock): minus their sums, plus the fresh table's groups. This reads the few
    // count rows instead of grouping the live partition's rows under the lock.
    await this.db.query(
      `INSERT INTO rebuild_delta SELECT status, risk_level, risk_trend, -sum(patients), NULL
         FROM patient_metric_counts WHERE organization_id = $1 GROUP BY status, risk_level, risk_trend`,
      [org],
    );
    await this.db.query(
      `INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
       SELECT $1, status, risk_level, risk_trend, sum(d), max(c) FROM rebuild_delta
        GROUP BY status, risk_level, risk_trend HAVING sum(d) <> 0 OR max(c) IS NOT NULL`,
      [org],
    );
    await this.db.query(`DELETE FROM patient_metrics_rebuild_log WHERE organization_id = $1`, [org]);
    return n;
  }

  /**
   * The fresh table takes the organization's place (under lockForSwap). An organization with its own partition: the
   * old one is detached and dropped. One in the shared partition (its first rebuild): its rows are deleted from the
   * shared partition (directly, so that the parent's count triggers do not fire: the counts were brought to the fresh
   * table's by takeOverAndCount), then the exclusion CHECK is added to the shared partition (a scan of it: the one
   * ATTACH would make, and the CHECK spares it this one and every later swap's), and the fresh table attached.
   */
  async replacePartition(): Promise<void> {
    if (this.t.shared) {
      await this.dropLogTriggers();
      await this.db.query(`DELETE FROM ${SHARED_PARTITION} WHERE organization_id = $1`, [this.t.organizationId]);
      await this.db.query(
        `ALTER TABLE ${SHARED_PARTITION} ADD CONSTRAINT ${exclusionName(this.t)} CHECK (organization_id <> '${this.t.organizationId}'::uuid)`,
      );
    } else {
      await this.db.query(`ALTER TABLE patient_metrics DETACH PARTITION ${this.t.live}`);
    }
    await this.db.query(`ALTER TABLE patient_metrics ATTACH PARTITION ${this.t.fresh} FOR VALUES IN ('${this.t.organizationId}')`);
    if (!this.t.shared) await this.db.query(`DROP TABLE ${this.t.live}`);
    await this.db.query(`ALTER TABLE ${this.t.fresh} RENAME TO ${this.t.live}`);
    const indexes = await this.db.query<{ name: string; parent: string }>(
      `SELECT c.relname AS name, p.relname AS parent FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_inherits h ON h.inhrelid = i.indexrelid JOIN pg_class p ON p.oid = h.inhparent
        WHERE i.indrelid = $1::regclass`,
      [this.t.live],
    );
    for (const { name, parent } of indexes) await this.db.query(`ALTER INDEX ${name} RENAME TO ${indexName(this.t, parent, false)}`);
  }
}

/**
 * A chunk's rows COPied straight into the fresh table (its tenant CHECK lets the run's connection insert its
 * organization's rows: createFresh), and its risk-history rows as the update path writes them: on the run's own
 * connection, as the runtime role; the caller owns the transaction. The rows are those the update path's INSERT makes
 * of the results' COPY (freshCopyBinary: the same values, in binary COPY format, the dates as to_timestamp gives them).
 */
export async function writeChunkToFresh(
  db: BatchTenantSql,
  t: RebuildTables,
  rows: readonly PatientScores[],
  now: Date,
  today: string,
): Promise<void> {
  if (rows.length === 0) return;
  // In primary-key order: the fresh table's heap comes out in the order of its primary key.
  const sorted = sortedByPatient(rows);
  await db.copyIn(`COPY ${t.fresh} (${FRESH_COPY_COLUMNS}) FROM STDIN (FORMAT binary)`, freshCopyBinary(sorted, db.organizationId, now));
  const history = sorted.filter((s) => s.recordHistory);
  if (history.length === 0) return;
  await db.query(RECORD_HISTORY_ARRAYS_SQL, [db.organizationId, now, today, history.map((s) => s.patientId), history.map((s) => s.riskScore)]);
}
