import { localDate } from 'src/common/time/calendar';
import type { Database } from 'src/database/database';
import { type ProgressCallback, recomputeOrganization, type RecomputeResult } from 'src/scoring/recompute/organization-recompute';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { DAY_MS } from 'src/common/time/calendar';

const DAY = DAY_MS;

/** Weekly past scorings of a freshly seeded organization: its risk history over the last eight weeks. */
export const DEFAULT_HISTORY_WEEKS = 8;

/**
 * Above this many patients `npm run seed` scores no past weeks unless told (`--history-weeks`): each past week is one
 * more organization-wide run (about 25 s at 100,000 patients on the reference machine, 0.5 s at 2,000).
 */
export const HISTORY_MAX_DEFAULT_PATIENTS = 20_000;

/** The past weeks a seed of `patients` patients scores unless told otherwise. */
export const defaultHistoryWeeks = (patients: number): number => (patients <= HISTORY_MAX_DEFAULT_PATIENTS ? DEFAULT_HISTORY_WEEKS : 0);

export interface ScoredWithHistory {
  /** The run as of `now`. */
  final: RecomputeResult;
  /** Past runs made (one per week). */
  pastRuns: number;
  /** Time of the past runs, in milliseconds. */
  historyMs: number;
}

/**
 * Scores a freshly seeded organization as the nightly job would have over the past `weeks` weeks, then as of `now`:
 * the organization-wide recompute as of `now − weeks·7 days`, … , `now − 7 days`, then `now`. The risk history
 * (`risk_score_history`) and so the risk trends (improving, declining) and the CLV fits come from the scoring rules
 * themselves, not from invented numbers. Runs go forward in time, so the features kept by one run roll forward to the
 * next (kept features are never used for an earlier instant).
 *
 * What a past run sees of the records: everything dated at or before its instant (visits, messages, payments,
 * surveys, referrals, plans started), as the features query reads them (docs/scoring.md). A few fields are today's
 * state, not dated (a payment's overdue status, a plan's completed or abandoned status and its session count, a reply
 * to a message sent before the instant), and appointments held since then read as held, not as booked. The patients
 * registered after an instant are scored in that run too (the features query does not look at registration dates);
 * their history rows from it are removed, so that no patient has a risk history from before they registered.
 */
export async function scoreWithHistory(
  database: Database,
  organizationId: string,
  now: Date,
  options: { weeks?: number; onPastRun?: (done: number, total: number) => void; onProgress?: ProgressCallback } = {},
): Promise<ScoredWithHistory> {
  const weeks = options.weeks ?? DEFAULT_HISTORY_WEEKS;
  const repos = new ScoringRepositories();
  const started = Date.now();
  options.onPastRun?.(0, weeks);
  for (let k = weeks; k >= 1; k--) {
    const at = new Date(now.getTime() - k * 7 * DAY);
    // The CLV models are fitted by the first past run and kept until the run as of `now` refits them (a fit is most
    // of a small clinic's run, and twelve weeks move the parameters little); no VACUUM until the last run.
    await recomputeOrganization(database, repos, organizationId, at, { vacuum: false, refit: k === weeks });
    await forgetHistoryBeforeRegistration(database, repos, organizationId, at);
    options.onPastRun?.(weeks - k + 1, weeks);
  }
  const historyMs = Date.now() - started;
  const final = await recomputeOrganization(database, repos, organizationId, now, { onProgress: options.onProgress });
  return { final, pastRuns: weeks, historyMs };
}

/** Removes the history rows the run as of `at` wrote for patients registered after `at`. */
async function forgetHistoryBeforeRegistration(database: Database, repos: ScoringRepositories, organizationId: string, at: Date): Promise<void> {
  await database.tenants.transaction(organizationId, async (db) => {
    const organization = await repos.organizations.own(db);
    await db.query(
      `DELETE FROM risk_score_history h USING patients p
        WHERE h.organization_id = $1 AND h.recorded_on = $3::date
          AND p.organization_id = $1 AND p.id = h.patient_id AND p.registered_at > $2`,
      [db.organizationId, at, localDate(at, organization?.timezone ?? 'UTC')],
    );
  });
}
