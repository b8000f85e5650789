import { localDate } from 'src/common/time/calendar';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { FeatureRow, PatientSelector } from 'src/scoring/features/feature-row';
import { type PatientScores, scorePatient } from 'src/scoring/patient-scores';
import type { OrganizationContext } from 'src/scoring/recompute/organization-context';
import type { ScoringRepositories } from 'src/scoring/scoring-repositories';

/** The score phase: the features rows scored in Node (pure). */
export function scoreRows(rows: readonly FeatureRow[], now: Date, context: OrganizationContext): PatientScores[] {
  const at = now.getTime();
  return rows.map((row) => scorePatient(row, at, context.settings, context.models));
}

/**
 * Recomputes the selected patients on `db` (one features query, scoring, one write): the request path, after an
 * ingestion, in the caller's transaction (TenantDb.transaction).
 */
export async function recomputeSelection(
  repos: ScoringRepositories,
  db: TenantSql,
  context: OrganizationContext,
  selector: PatientSelector,
  now: Date,
): Promise<number> {
  const { organization, settings } = context;
  const rows = await repos.features.features(db, selector, now, settings, organization.timezone);
  const deletedAmong = selector.kind === 'ids' ? selector.ids : [];
  await repos.scores.saveScores(db, scoreRows(rows, now, context), now, localDate(now, organization.timezone), deletedAmong);
  if (selector.kind === 'range') await repos.scores.deleteMetricsOfDeletedPatients(db, selector);
  return rows.length;
}
