import type { Database } from 'src/database/database';
import type { OwnerConnection } from 'src/database/owner-connection';
import { analyzeTables, analyzeUnseenTables } from 'src/scoring/recompute/maintenance';

/** The tables a FHIR import writes (the records of src/ingestion and the medical list items). */
const IMPORT_TABLES = [
  'patients',
  'appointments',
  'payments',
  'communications',
  'survey_responses',
  'treatment_plans',
  'consent_decisions',
  'fhir_resources',
];

/** How often (resources written) the tables' growth is checked. */
const CHECK_EVERY = 2_000;
/** Rows changed since the last analyze below which a table is never analyzed (however it grew). */
const MIN_CHANGED = 1_000;

/**
 * Keeps the planner's statistics up with a large import, as autovacuum's analyze would, only at once. A bulk load
 * into fresh tables leaves them unanalyzed, or analyzed while still empty (autovacuum's analyze, where it runs, comes
 * a minute or more later; where it is off, never), and then the planner took the medical-list lookup's small patient
 * index with a filter instead of the primary key: 1.2-1.8 s per chunk of 1,000 at 600,000 rows and growing, so a
 * 50,000-patient import slowed down chunk by chunk. The import calls `written(total)` after each chunk; every
 * 2,000 resources the tables' counters are read (pg_stat_user_tables, about a millisecond), and those whose rows
 * changed since their last analyze are at least half of them (the table doubled; and at least 1,000 rows) are
 * analyzed, on an owner connection held for the import. ANALYZE samples a fixed number of rows (well under a second
 * per table whatever its size), and each table is analyzed about once per doubling: a dozen times for a table that
 * grows to millions of rows. The check was every 20,000 resources from 10,000 rows: the first clinic's import then
 * wrote its first 19,000 Conditions into a never-analyzed `fhir_resources` at about 500 resources/s (each chunk's
 * lookup by key scanning the clinic's rows through the patient index, 0.2-1.9 s a chunk), about 20 s of a 56 s
 * import of 5,000 patients (docs/fhir.md).
 */
export class ImportStatistics {
  private nextCheck = CHECK_EVERY;
  private owner: OwnerConnection | null = null;

  constructor(private readonly database: Database) {}

  async written(total: number): Promise<void> {
    if (total < this.nextCheck) return;
    this.nextCheck = total + CHECK_EVERY;
    this.owner ??= await this.database.ownerConnection('patient-journey-import-analyze');
    const grown = await this.owner.query<{ relname: string }>(
      `SELECT relname FROM pg_stat_user_tables
        WHERE relname = ANY($1::text[]) AND n_mod_since_analyze >= GREATEST($2::bigint, n_live_tup / 2)`,
      [IMPORT_TABLES, MIN_CHANGED],
    );
    await analyzeTables(
      this.owner,
      grown.map((r) => r.relname),
    );
  }

  /**
   * At the end of an import, before its rescore: ANALYZE the tables it writes whose statistics still take the
   * organization for almost no rows while it has at least MIN_CHANGED rows there (organizationUnseenTables: the
   * planner's estimate under a tenth of that, a count that stops at it). The doubling rule above never fires for a
   * clinic that joins a database holding a larger one, and autovacuum's analyze waits for a tenth of the table to
   * change; until then every statement that reads the clinic's rows was planned for one row: a 5,000-patient clinic's
   * opportunities refresh beside the million-patient clinic took 31.8 s (each table's rows read once per patient) and
   * its engagement rebuild 7.5 s. Returns the relations analyzed. The check runs as the organization's (the session
   * setting `app.organization_id` of this owner connection, which serves nothing else).
   */
  async settle(organizationId: string): Promise<string[]> {
    const owner = (this.owner ??= await this.database.ownerConnection('patient-journey-import-analyze'));
    await owner.query(`SELECT set_config('app.organization_id', $1, false)`, [organizationId]);
    return analyzeUnseenTables(owner, async () => owner, IMPORT_TABLES);
  }

  async close(): Promise<void> {
    await this.owner?.end();
    this.owner = null;
  }
}
