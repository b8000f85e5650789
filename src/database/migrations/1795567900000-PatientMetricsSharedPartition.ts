import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A partition with at least this many rows keeps its own: the organization-wide recompute's rebuild threshold
 * (REBUILD_MIN_PATIENTS, src/scoring/recompute/metrics-partition-swap.ts) when this was written, copied so that the
 * migration does not change with it.
 */
const KEEP_OWN_FROM_ROWS = 50_000;

const DEFAULT_PARTITION = 'patient_metrics_default';

/**
 * `patient_metrics`: a partition only for the organizations above a size (docs/scaling.md, "The metrics layout").
 * 1795566900000 gave every organization its own partition (a table, ten indexes and a TOAST table: 11 relations per
 * organization, each cached by every backend that serves it, and each touched by every DDL on the parent). Now:
 *
 * - A DEFAULT partition, `patient_metrics_default`, holds every organization that has no partition of its own (same
 *   settings as the others: fillfactor 50, row-level security enabled without a policy, no grant to the runtime role;
 *   the app reaches it through the parent only). Its rows are updated in place by the recompute, as every organization
 *   below the rebuild threshold always was.
 * - Creating an organization no longer creates a partition (the insert trigger and its functions are dropped).
 * - An organization gets its partition when its organization-wide recompute takes the rebuild path (from 50,000 live
 *   patients): the swap moves its rows out of the default (src/scoring/recompute/metrics-partition-swap.ts).
 * - Here: each existing partition of fewer than 50,000 rows is moved into the default (DETACH, its rows inserted into
 *   the default, DROP), the larger ones stay. The rows are inserted into the default partition directly, so the
 *   parent's count triggers do not count them twice.
 *
 * Not one transaction: the default is created in one, then each organization is moved in its own (its DETACH holds
 * the parent for a few milliseconds), so that thousands of partitions never hold their locks at once
 * (max_locks_per_transaction) and readers wait only for one organization's move. A run stopped half way leaves a
 * valid layout (the organizations not yet moved keep their own partition) and the next run moves the rest.
 */
export class PatientMetricsSharedPartition1795567900000 implements MigrationInterface {
  name = 'PatientMetricsSharedPartition1795567900000';
  transaction = false;

  /** `keepOwnFromRows`: tests lower it to keep a small organization's partition. */
  constructor(private readonly keepOwnFromRows = KEEP_OWN_FROM_ROWS) {}

  async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string, params?: unknown[]): Promise<unknown> => queryRunner.query(sql, params);
    await inTransaction(queryRunner, async () => {
      await q(`DROP TRIGGER IF EXISTS "trg_organizations_metrics_partition" ON "organizations"`);
      await q(`DROP FUNCTION IF EXISTS organizations_add_metrics_partition()`);
      await q(`DROP FUNCTION IF EXISTS patient_metrics_add_partition(uuid)`);
      const [{ exists }] = (await queryRunner.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [DEFAULT_PARTITION])) as { exists: boolean }[];
      if (exists) return;
      await q(`CREATE TABLE "${DEFAULT_PARTITION}" (LIKE "patient_metrics" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 50)`);
      await q(`REVOKE ALL ON "${DEFAULT_PARTITION}" FROM patient_journey_app`);
      await q(`ALTER TABLE "${DEFAULT_PARTITION}" ENABLE ROW LEVEL SECURITY`);
      await q(`ALTER TABLE "patient_metrics" ATTACH PARTITION "${DEFAULT_PARTITION}" DEFAULT`);
    });
    const columns = await parentColumns(queryRunner);
    const partitions = (await queryRunner.query(
      `SELECT c.relname AS name FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        WHERE h.inhparent = 'patient_metrics'::regclass AND c.relname <> $1 ORDER BY c.relname`,
      [DEFAULT_PARTITION],
    )) as { name: string }[];
    for (const { name } of partitions) {
      // At most keepOwnFromRows rows read: a large organization's partition is not counted whole.
      const [{ n }] = (await queryRunner.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM "${name}" LIMIT $1) x`, [this.keepOwnFromRows])) as {
        n: number;
      }[];
      if (n >= this.keepOwnFromRows) continue;
      await inTransaction(queryRunner, async () => {
        await q(`ALTER TABLE "patient_metrics" DETACH PARTITION "${name}"`);
        // The shared partition's CHECK that keeps an organization with its own partition out of it (the recompute
        // adds it: metrics-partition.repository.ts), present when this runs again after such an organization's move.
        const hex = /^patient_metrics_([0-9a-f]{32})$/.exec(name)?.[1];
        if (hex) await q(`ALTER TABLE "${DEFAULT_PARTITION}" DROP CONSTRAINT IF EXISTS "ck_pm_default_not_${hex}"`);
        await q(`INSERT INTO "${DEFAULT_PARTITION}" (${columns}) SELECT ${columns} FROM "${name}"`);
        await q(`DROP TABLE "${name}"`);
      });
    }
  }

  /**
   * Back to one partition per organization: the functions and trigger of 1795566900000 again, a partition for every
   * organization, the default's rows moved into them through the parent with the count trigger off (they are counted
   * already), the default dropped. One transaction.
   */
  async down(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string): Promise<unknown> => queryRunner.query(sql);
    await inTransaction(queryRunner, async () => {
      await q(`CREATE FUNCTION patient_metrics_add_partition(org uuid) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
          part text := 'patient_metrics_' || replace(org::text, '-', '');
        BEGIN
          IF to_regclass(part) IS NOT NULL THEN RETURN; END IF;
          EXECUTE format('CREATE TABLE %I (LIKE patient_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 50)', part);
          EXECUTE format('REVOKE ALL ON %I FROM patient_journey_app', part);
          EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
          EXECUTE format('ALTER TABLE patient_metrics ATTACH PARTITION %I FOR VALUES IN (%L)', part, org);
        END $$`);
      await q(`CREATE FUNCTION organizations_add_metrics_partition() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        BEGIN
          PERFORM patient_metrics_add_partition(NEW.id);
          RETURN NULL;
        END $$`);
      await q(`CREATE TRIGGER "trg_organizations_metrics_partition" AFTER INSERT ON "organizations"
        FOR EACH ROW EXECUTE FUNCTION organizations_add_metrics_partition()`);
      await q(`ALTER TABLE "patient_metrics" DETACH PARTITION "${DEFAULT_PARTITION}"`);
      await q(`SELECT patient_metrics_add_partition(id) FROM organizations`);
      const columns = await parentColumns(queryRunner);
      await q(`ALTER TABLE "patient_metrics" DISABLE TRIGGER "trg_patient_metric_counts_insert"`);
      await q(`INSERT INTO "patient_metrics" (${columns}) SELECT ${columns} FROM "${DEFAULT_PARTITION}"`);
      await q(`ALTER TABLE "patient_metrics" ENABLE TRIGGER "trg_patient_metric_counts_insert"`);
      await q(`DROP TABLE "${DEFAULT_PARTITION}"`);
    });
  }
}

/** The parent's columns, in order, quoted: the partitions' column order may differ from the parent's. */
async function parentColumns(queryRunner: QueryRunner): Promise<string> {
  const [{ list }] = (await queryRunner.query(
    `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS list FROM pg_attribute
      WHERE attrelid = 'patient_metrics'::regclass AND attnum > 0 AND NOT attisdropped`,
  )) as { list: string }[];
  return list;
}

async function inTransaction(queryRunner: QueryRunner, work: () => Promise<void>): Promise<void> {
  await queryRunner.startTransaction();
  try {
    await work();
    await queryRunner.commitTransaction();
  } catch (err) {
    await queryRunner.rollbackTransaction();
    throw err;
  }
}
