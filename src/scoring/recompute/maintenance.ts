import type { OwnerConnection } from 'src/database/owner-connection';
import { hasOwnPartition, rebuildTables } from 'src/scoring/recompute/metrics-partition.repository';

/*
 * The maintenance phase of an organization-wide recompute: VACUUM and ANALYZE need the tables' owner, so these run
 * on the owner's connection (one of the named owner uses: src/database/owner-connection.ts).
 */

/**
 * Every recompute rewrites each metrics row, leaving a dead version behind. A VACUUM removes them and their index
 * entries. It is not what lets the next recompute update rows in place (HOT, no index writes when no indexed column
 * changed): the update prunes a page's dead versions itself when it finds the page short of room (fillfactor 50),
 * and measured on a 200,000-patient clinic over three days, runs without the VACUUM made as many HOT updates (54 %)
 * in as much heap (171 MB) as runs with it. What it saves is index growth (dead entries of the rows whose indexed
 * columns moved: 261 → 271 MB after three days without it) and, above all for the read path, setting the visibility
 * map: the update of nearly every row clears it, and until a VACUUM sets it again every index-only scan of the list
 * (the page ids, the deep OFFSET pages, the counts) visits the heap. Measured on the million-patient clinic after a
 * next-day run without it: offset=900000 pages 200-250 ms; after the VACUUM (12.6 s) 42-62 ms. So an organization's
 * run ends with it by default (`vacuum` undefined or true); the nightly job (one job per organization) vacuums only
 * the organization's own metrics partition (`vacuum: 'own-partition'`: the whole tables once per organization made the
 * night quadratic in organizations, docs/scaling.md) and leaves the shared tables to autovacuum; `vacuum: 'analyze'`
 * (`npm run recompute -- --analyze-only`) only analyzes, for a server whose autovacuum will follow.
 */
const SCORING_TABLES = ['patient_metrics', 'risk_score_history', 'patient_features'];

export async function vacuumScoringTables(owner: OwnerConnection, tables: readonly string[] = SCORING_TABLES): Promise<void> {
  await owner.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
}

/**
 * VACUUM (ANALYZE) of the organization's own metrics partition, when it has one (an organization above the rebuild
 * threshold, migration 1795567900000). The shared partition of all the others is left to autovacuum: vacuuming it
 * after each small organization's run would make the night quadratic in organizations again, and a few hundred rows'
 * visibility map matters little to their list.
 */
export async function vacuumOwnPartition(owner: OwnerConnection, organizationId: string): Promise<void> {
  if (await hasOwnPartition(owner, organizationId)) await vacuumScoringTables(owner, [owner.escapeIdentifier(rebuildTables(organizationId).live)]);
}

/** Fresh statistics for the read path's plans after an organization's run (a sample: well under a second). */
export async function analyzeScoringTables(owner: OwnerConnection, tables: readonly string[] = SCORING_TABLES): Promise<void> {
  await owner.query(`ANALYZE ${tables.join(', ')}`);
}

/** The source tables the features query reads. */
const SOURCE_TABLES = ['patients', 'appointments', 'communications', 'payments', 'survey_responses', 'referrals', 'treatment_plans'];

/**
 * The source tables never analyzed (a fresh bulk load): without statistics plans go wrong. Statistics views are
 * readable by the runtime role, so a run checks on its own connection and opens the owner's only when one needs it.
 */
export async function neverAnalyzedSources(sql: { query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> }): Promise<string[]> {
  const rows = await sql.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables
      WHERE relname = ANY($1::text[]) AND last_analyze IS NULL AND last_autoanalyze IS NULL`,
    [SOURCE_TABLES],
  );
  return rows.map((r) => r.relname);
}

export async function analyzeTables(owner: OwnerConnection, tables: readonly string[]): Promise<void> {
  for (const name of tables) await owner.query(`ANALYZE ${owner.escapeIdentifier(name)}`);
}

/**
 * The tables an organization-wide run reads for one organization: the records (the features, the fit), its kept
 * features, scores and risk history, and its follow-ups' snapshots (the opportunities, the engagement rollup).
 */
export const RUN_TABLES = [
  ...SOURCE_TABLES,
  'patient_features',
  'risk_score_history',
  'patient_metrics',
  'reengagement_opportunities',
  'engagement_patient_days',
  'engagement_visit_gaps',
];

/**
 * Every table whose rows the requests or the runs read by organization: the run's (above) and the read path's (the
 * journey's events and automations, the consent decisions, the patients' keys and identifiers, the audit trail). What
 * the statistics must know an organization in: a 5,000-patient clinic they did not know was read at 9 list pages/s
 * instead of 331, 313 journeys/s instead of 1,160 and 529 opportunities' pages/s instead of 825 (docs/scaling.md,
 * "Before its first night"; the list's, journey's and profile's probes no longer depend on it, the rest still does).
 */
export const ORGANIZATION_TABLES = [
  ...RUN_TABLES,
  'journey_events',
  'automation_enrollments',
  'consent_decisions',
  'patient_keys',
  'patient_identifiers',
  'audit_events',
];

/**
 * Of `tables`, the relations (a table, or the partition the organization's rows are planned in) whose statistics
 * take the connection's organization for almost no rows while it has 1,000 or more there: to ANALYZE before its
 * statements are planned (migration 1795568600000, `organization_unseen_tables`; one round trip on the tenant
 * connection, the check runs as the tables' owner).
 */
export async function organizationUnseenTables(
  sql: { query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> },
  tables: readonly string[],
): Promise<string[]> {
  const [row] = await sql.query<{ unseen: string[] }>(`SELECT organization_unseen_tables($1::text[]) AS unseen`, [tables]);
  return row?.unseen ?? [];
}

/**
 * ANALYZE, on the owner's connection (`owner`: opened only when some table needs it), of the tables of `tables` whose
 * statistics do not know the connection's organization (organizationUnseenTables). Returns those analyzed.
 */
export async function analyzeUnseenTables(
  sql: { query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> },
  owner: () => Promise<OwnerConnection>,
  tables: readonly string[],
): Promise<string[]> {
  const unseen = await organizationUnseenTables(sql, tables);
  if (unseen.length > 0) await analyzeTables(await owner(), unseen);
  return unseen;
}

/** ANALYZE source tables that have never been analyzed (a fresh bulk load): without statistics plans go wrong. */
export async function analyzeIfNeverAnalyzed(owner: OwnerConnection): Promise<void> {
  await analyzeTables(owner, await neverAnalyzedSources(owner));
}
