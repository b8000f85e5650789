import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import type { PatientSelector } from 'src/scoring/features/feature-row';

/** A statement and its parameters. */
export interface FeaturesQuery {
  sql: string;
  params: unknown[];
}

/**
 * Net revenue of a patient's payments before $2 (payments minus refunds), over rows of `payments`: the
 * netRevenueCents feature, and the referred patients' revenue of referredNetRevenueCents.
 */
export const NET_REVENUE = `coalesce(sum(amount_cents) FILTER (WHERE kind = 'payment' AND status = 'paid' AND occurred_at <= $2), 0)
      - coalesce(sum(abs(amount_cents)) FILTER (WHERE kind = 'refund' AND status IN ('paid', 'refunded') AND occurred_at <= $2), 0)`;

/** λ of the recency weight exp(−λ · age in seconds): ln 2 over the half-life (features and kept features alike). */
export function decayRatePerSecond(settings: ScoringSettings): number {
  return Math.LN2 / (Math.max(settings.decayHalfLifeDays, 1e-6) * 86_400);
}

/** An instant column as epoch milliseconds (float8). */
export const ms = (expr: string): string => `(date_part('epoch', ${expr}) * 1000)`;

/** Pushes the selector's parameters once; returns a function giving its predicate on any column. */
export function selectorSql(selector: PatientSelector, params: unknown[]): (column: string) => string {
  if (selector.kind === 'ids') {
    params.push(selector.ids);
    const ids = params.length;
    return (column) => `${column} = ANY($${ids}::uuid[])`;
  }
  let from = 0;
  let to = 0;
  if (selector.from !== null) from = params.push(selector.from);
  if (selector.to !== null) to = params.push(selector.to);
  return (column) => {
    const parts: string[] = [];
    if (from) parts.push(`${column} >= $${from}::uuid`);
    if (to) parts.push(`${column} < $${to}::uuid`);
    return parts.length ? parts.join(' AND ') : 'TRUE';
  };
}

/**
 * A patient's last recorded risk scores, for the trend and the history rules: "previousRiskScore" (the score about
 * `riskTrendWindowDays` ago: the latest on or before the baseline day, else the earliest after it and before today)
 * and "lastRecordedRiskScore" (the latest on or before today). `id`: the patient id column; the two days as
 * parameters. $1 is the organization.
 */
export function riskHistoryColumns(id: string, baselineDay: string, today: string): string {
  // risk_score is real: sent as real (its shortest text, "40.3"), not as float8 (40.29999923706055), so that the
  // trend and history rules compare one-decimal scores exactly.
  return `coalesce(
    (SELECT h.risk_score FROM risk_score_history h
      WHERE h.organization_id = $1 AND h.patient_id = ${id} AND h.recorded_on <= ${baselineDay}::date
      ORDER BY h.recorded_on DESC LIMIT 1),
    (SELECT h.risk_score FROM risk_score_history h
      WHERE h.organization_id = $1 AND h.patient_id = ${id} AND h.recorded_on > ${baselineDay}::date AND h.recorded_on < ${today}::date
      ORDER BY h.recorded_on ASC LIMIT 1)
  ) AS "previousRiskScore",
  (SELECT h.risk_score FROM risk_score_history h
    WHERE h.organization_id = $1 AND h.patient_id = ${id} AND h.recorded_on <= ${today}::date
    ORDER BY h.recorded_on DESC LIMIT 1) AS "lastRecordedRiskScore"`;
}

/**
 * riskHistoryColumns' two columns, the same values, read another way for a small organization (fewer than
 * SMALL_ORGANIZATION_PATIENTS: one chunk) as its nightly run reads its kept features (keptFeaturesQuery with
 * `history: 'window'`, from readChunk): one grouped pass over the history rows of the window
 * (after the baseline day, up to today: a month's rows, however long the history) gives each patient the latest of
 * them and the earliest before today, and one lookup per patient (a LATERAL join, evaluated once) the latest on or
 * before the baseline day. Then "previousRiskScore" is that latest, else the window's earliest before today, and
 * "lastRecordedRiskScore" the window's latest, else that latest; a baseline day after today is never asked (the
 * settings keep riskTrendWindowDays above 0). The window's rows are each `ARRAY[day number, score]` (a real converts
 * to float8 and back exactly; the day numbers are unique per patient, the primary key's), whose max and min pick
 * the latest and earliest without a sort. Three lookups a patient, two of them on a row (a history of one row a
 * patient, yesterday's), cost a 200-patient clinic's read 1.8-2.8 ms of the server's CPU against 0.2-0.4 ms with the
 * others' rows a patient (docs/scaling.md, "The kept features read's history"). Larger organizations keep the
 * lookups (a grouped pass per 50,000-patient chunk measured no cheaper there: docs/performance.md). `joins`: after the patients
 * `p` (their id `id`); `onPatients`: the predicate of the read's patients on a column (selectorSql).
 */
export function riskHistoryWindowPass(
  id: string,
  baselineDay: string,
  today: string,
  onPatients: (column: string) => string,
): { joins: string; columns: string } {
  const row = `ARRAY[(h.recorded_on - ${baselineDay}::date)::float8, h.risk_score::float8]`;
  return {
    joins: `LEFT JOIN (
  SELECT h.patient_id, max(${row}) AS latest, min(${row}) FILTER (WHERE h.recorded_on < ${today}::date) AS earliest
    FROM risk_score_history h
   WHERE h.organization_id = $1 AND ${onPatients('h.patient_id')} AND h.recorded_on > ${baselineDay}::date AND h.recorded_on <= ${today}::date
   GROUP BY h.patient_id
) rw ON rw.patient_id = ${id}
LEFT JOIN LATERAL (
  SELECT h.risk_score FROM risk_score_history h
   WHERE h.organization_id = $1 AND h.patient_id = ${id} AND h.recorded_on <= ${baselineDay}::date
   ORDER BY h.recorded_on DESC LIMIT 1
) rb ON TRUE`,
    columns: `coalesce(rb.risk_score, rw.earliest[2]::real) AS "previousRiskScore",
  coalesce(rw.latest[2]::real, rb.risk_score) AS "lastRecordedRiskScore"`,
  };
}
