import type { BgNbdParams } from 'src/scoring/domain/bg-nbd';
import { emptyFeatures, type PatientFeatures } from 'src/scoring/domain/patient-features';
import type { GammaGammaParams } from 'src/scoring/domain/gamma-gamma';
import { ModelKind } from 'src/scoring/entities/scoring.enums';
import {
  FEATURE_COLUMNS,
  FeatureRow,
  featureRowFromValues,
  featuresQuery,
  FeaturesQueryOptions,
  keptFeaturesQuery,
  PatientSelector,
  referredNetRevenueQuery,
} from 'src/scoring/features.query';
import type { PatientScores } from 'src/scoring/patient-scores';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import type { SqlRunner } from 'src/scoring/sql-runner';

export interface ScoringOrganization {
  id: string;
  slug: string;
  timezone: string;
  /** organizations.settings jsonb (the `scoring` key holds overrides of the scoring defaults). */
  settings: Record<string, unknown>;
}

/** The organization's latest fit attempt. */
export interface StoredFits {
  /** The fitted parameters; null when that attempt was not accepted (the domain's fallbacks apply). */
  models: { bgnbd: BgNbdParams; gammaGamma: GammaGammaParams } | null;
  fittedAt: Date;
}

/** A patient as the model fit sees them (only the visit fields of the features are read). */
export interface FitRow {
  id: string;
  features: PatientFeatures;
}

export interface NewModelFit {
  model: ModelKind;
  params: Record<string, number>;
  logLikelihood: number | null;
  sampleSize: number;
  fittedAt: Date;
  durationMs: number;
  /** false: an attempt whose parameters are not used (too little history, or implausible values). */
  accepted: boolean;
}

/** Columns of the results handed back to PostgreSQL, in COPY order, with their SQL types. */
const RESULT_COLUMNS: readonly (readonly [string, string, (s: PatientScores) => string | number | boolean | null])[] = [
  ['patient_id', 'uuid', (s) => s.patientId],
  ['sort_name', 'text', (s) => s.sortName],
  ['status', 'text', (s) => s.status],
  ['risk_score', 'real', (s) => s.riskScore],
  ['risk_level', 'text', (s) => s.riskLevel],
  ['risk_factors', 'jsonb', (s) => JSON.stringify(s.riskFactors)],
  ['risk_trend', 'text', (s) => s.riskTrend],
  ['engagement_score', 'real', (s) => s.engagementScore],
  ['ltv_cents', 'integer', (s) => s.ltvCents],
  ['historical_revenue_cents', 'integer', (s) => s.historicalRevenueCents],
  ['future_value_cents', 'integer', (s) => s.futureValueCents],
  ['referral_value_cents', 'integer', (s) => s.referralValueCents],
  ['total_sessions', 'integer', (s) => s.totalSessions],
  ['avg_session_value_cents', 'integer', (s) => s.avgSessionValueCents],
  ['last_appointment_ms', 'float8', (s) => s.lastAppointmentAt],
  ['next_appointment_ms', 'float8', (s) => s.nextAppointmentAt],
  ['last_contact_ms', 'float8', (s) => s.lastContactAt],
  ['success_probability', 'real', (s) => s.successProbability],
  ['first_visit_ms', 'float8', (s) => s.firstVisitAt],
  ['record_history', 'boolean', (s) => s.recordHistory],
  ['has_metrics', 'boolean', (s) => s.hasMetrics],
];
const COLUMN_LIST = RESULT_COLUMNS.map(([name]) => name).join(', ');
const COLUMN_DEFS = RESULT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

/** The patient_metrics columns a write sets from the results (besides stale and the timestamps). */
const METRIC_COLUMNS = [
  'sort_name', 'status', 'risk_score', 'risk_level', 'risk_factors', 'risk_trend', 'engagement_score', 'ltv_cents',
  'historical_revenue_cents', 'future_value_cents', 'referral_value_cents', 'total_sessions', 'avg_session_value_cents',
  'last_appointment_at', 'next_appointment_at', 'last_contact_at', 'success_probability', 'first_visit_at',
] as const;
/** Results columns that are not copied as they are: dates travel as epoch milliseconds. */
const METRIC_VALUE: Partial<Record<(typeof METRIC_COLUMNS)[number], string>> = {
  last_appointment_at: 'to_timestamp(t.last_appointment_ms / 1000)',
  next_appointment_at: 'to_timestamp(t.next_appointment_ms / 1000)',
  last_contact_at: 'to_timestamp(t.last_contact_ms / 1000)',
  first_visit_at: 'to_timestamp(t.first_visit_ms / 1000)',
};

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function copyValue(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

/** COPY text of a nullable number (also the COPY form of a string of digits). */
function copyNumber(value: number | null): string {
  return value === null ? '\\N' : String(value);
}

/**
 * One COPY line (without its newline) of the results, in RESULT_COLUMNS order, as `copyValue` formats each value:
 * written out, since mapping the column list per row (closures, an array, a join) cost about twice as much. The id
 * (a uuid), the status, level and trend (fixed words) and the booleans never need escaping: written as they are.
 */
export function copyLine(s: PatientScores): string {
  return `${s.patientId}\t${copyValue(s.sortName)}\t${s.status}\t${copyNumber(s.riskScore)}\t${s.riskLevel}\t${copyValue(
    JSON.stringify(s.riskFactors),
  )}\t${s.riskTrend}\t${copyNumber(s.engagementScore)}\t${copyNumber(s.ltvCents)}\t${copyNumber(s.historicalRevenueCents)}\t${copyNumber(
    s.futureValueCents,
  )}\t${copyNumber(s.referralValueCents)}\t${copyNumber(s.totalSessions)}\t${copyNumber(s.avgSessionValueCents)}\t${copyNumber(
    s.lastAppointmentAt,
  )}\t${copyNumber(s.nextAppointmentAt)}\t${copyNumber(s.lastContactAt)}\t${copyNumber(s.successProbability)}\t${copyNumber(s.firstVisitAt)}\t${
    s.recordHistory ? 't' : 'f'
  }\t${s.hasMetrics === null ? '\\N' : s.hasMetrics ? 't' : 'f'}`;
}

/** The COPY text of `scores`, one line each, as RESULT_COLUMNS and copyValue define it (the reference). */
export function toCopyText(scores: readonly PatientScores[]): string {
  let text = '';
  for (const s of scores) {
    text += RESULT_COLUMNS.map(([, , get]) => copyValue(get(s))).join('\t') + '\n';
  }
  return text;
}

/** The same text as `toCopyText`, in pieces of `rowsPerPiece` lines (streamed as they are: no one huge string). */
export function toCopyPieces(scores: readonly PatientScores[], rowsPerPiece = 2000): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < scores.length; i += rowsPerPiece) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(scores.length, i + rowsPerPiece); j++) lines.push(copyLine(scores[j]));
    pieces.push(lines.join('\n') + '\n');
  }
  return pieces;
}

/**
 * Today's risk-history rows ($1 organization, $2 now, $3 today) of the results in table `t` whose score moved at
 * least `riskHistoryStep` from the last recorded one (`record_history`).
 */
export function recordHistorySql(t: string, scores: readonly PatientScores[]): string {
  return `
         INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score, created_at, updated_at)
         SELECT $1, t.patient_id, $3::date, t.risk_score, $2, $2 FROM ${t} t WHERE ${scores.some((s) => s.recordHistory) ? 't.record_history' : 'FALSE'}
         ON CONFLICT (patient_id, recorded_on) DO UPDATE SET risk_score = EXCLUDED.risk_score, updated_at = EXCLUDED.updated_at`;
}

/** `INSERT INTO table (...) SELECT ...` of metrics rows ($1 organization, $2 now), to be followed by `FROM <results> t`. */
export function insertMetricsSql(table: string): string {
  return `INSERT INTO ${table} (organization_id, patient_id, ${METRIC_COLUMNS.join(', ')}, stale, computed_at, created_at, updated_at)
       SELECT $1, t.patient_id, ${METRIC_COLUMNS.map((c) => METRIC_VALUE[c] ?? `t.${c}`).join(', ')}, false, $2, $2, $2`;
}

/** The scores in patient id order (the primary key's order within an organization), as a new array. */
export function sortedByPatient(scores: readonly PatientScores[]): PatientScores[] {
  return [...scores].sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
}

/**
 * Every SQL statement of the scoring engine. Each call names its organization; the runner decides the role
 * (runtime role under row-level security on the request path, owner for the organization-wide command).
 */
export class ScoringRepository {
  constructor(private readonly db: SqlRunner) {}

  async organization(organizationId: string): Promise<ScoringOrganization | null> {
    const rows = await this.db.query<ScoringOrganization>(
      `SELECT id, slug, timezone, settings FROM organizations WHERE id = $1`,
      [organizationId],
    );
    return rows[0] ?? null;
  }

  async organizationBySlug(slug: string): Promise<ScoringOrganization | null> {
    const rows = await this.db.query<ScoringOrganization>(
      `SELECT id, slug, timezone, settings FROM organizations WHERE slug = $1`,
      [slug],
    );
    return rows[0] ?? null;
  }

  async organizationIds(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM organizations ORDER BY slug`);
    return rows.map((r) => r.id);
  }

  async countPatients(organizationId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`,
      [organizationId],
    );
    return rows[0].n;
  }

  /**
   * The ids at which chunks of `chunkSize` patients begin, in id order (the first chunk's start excluded), and the
   * number of live patients: one walk of the (organization_id, id) index. Ids may be random (v4) or time-ordered
   * (v7, the seed's); either way the chunks come out equal.
   */
  async chunkBoundaries(organizationId: string, chunkSize: number): Promise<{ ids: string[]; patients: number }> {
    const rows = await this.db.query<{ ids: string[] | null; patients: number }>(
      `SELECT array_agg(id::text ORDER BY id) FILTER (WHERE rn > 1 AND rn % $2 = 1) AS ids, count(*)::int AS patients FROM (
         SELECT id, row_number() OVER (ORDER BY id) AS rn FROM patients WHERE organization_id = $1 AND deleted_at IS NULL
       ) s`,
      [organizationId, Math.max(1, Math.floor(chunkSize))],
    );
    return { ids: rows[0].ids ?? [], patients: rows[0].patients };
  }

  async features(
    organizationId: string,
    selector: PatientSelector,
    now: Date,
    settings: ScoringSettings,
    timeZone: string,
    options: FeaturesQueryOptions = {},
  ): Promise<FeatureRow[]> {
    const q = featuresQuery(organizationId, selector, now, settings, timeZone, options);
    if (!this.db.queryArrays) return this.db.query<FeatureRow>(q.sql, q.params);
    // As arrays, each turned into a FeatureRow of a fixed shape (featureRowFromValues reads them by position).
    const { columns, rows } = await this.db.queryArrays(q.sql, q.params);
    if (columns.length !== FEATURE_COLUMNS.length || columns.some((c, i) => c !== FEATURE_COLUMNS[i])) {
      throw new Error(`features query columns ${columns.join(', ')} differ from FEATURE_COLUMNS`);
    }
    const features = new Array<FeatureRow>(rows.length);
    for (let i = 0; i < rows.length; i++) features[i] = featureRowFromValues(rows[i]);
    return features;
  }

  /**
   * The kept features of an id range rolled forward to `now` (keptFeaturesQuery): `rows` for the patients whose kept
   * row could be used, `unkept` the ids of the others (to read afresh, with `features(..., { keep })`).
   */
  async keptFeatures(
    organizationId: string,
    range: Extract<PatientSelector, { kind: 'range' }>,
    now: Date,
    settings: ScoringSettings,
    timeZone: string,
  ): Promise<{ rows: FeatureRow[]; unkept: string[] }> {
    if (!this.db.queryArrays) throw new Error('keptFeatures needs a runner that returns arrays');
    const q = keptFeaturesQuery(organizationId, range, now, settings, timeZone);
    const { columns, rows } = await this.db.queryArrays(q.sql, q.params);
    const n = FEATURE_COLUMNS.length;
    if (columns.length !== n + 1 || columns.some((c, i) => c !== (i < n ? FEATURE_COLUMNS[i] : 'kept'))) {
      throw new Error(`kept features columns ${columns.join(', ')} differ from FEATURE_COLUMNS and kept`);
    }
    const kept: FeatureRow[] = [];
    const unkept: string[] = [];
    for (const values of rows) {
      if (values[n] === true) kept.push(featureRowFromValues(values));
      else unkept.push(values[0] as string);
    }
    return { rows: kept, unkept };
  }

  /** Whether the organization has any kept features row written under `settingsKey` (keptFeaturesKey). */
  async hasKeptFeatures(organizationId: string, settingsKey: string): Promise<boolean> {
    const rows = await this.db.query<{ kept: boolean }>(
      `SELECT EXISTS (SELECT FROM patient_features WHERE organization_id = $1 AND settings_key = $2 AND computed_for IS NOT NULL) AS kept`,
      [organizationId, settingsKey],
    );
    return rows[0].kept;
  }

  /** referredNetRevenueCents of the organization's referrers (absent: 0), in one pass (referredNetRevenueQuery). */
  async referredNetRevenue(organizationId: string, now: Date): Promise<Map<string, number>> {
    const q = referredNetRevenueQuery(organizationId, now);
    const rows = await this.db.query<{ patient_id: string; referred_net: number }>(q.sql, q.params);
    return new Map(rows.map((r) => [r.patient_id, r.referred_net]));
  }

  /** Ids of a reproducible random sample of about `size` live patients (Bernoulli sampling, seeded). */
  async samplePatientIds(organizationId: string, size: number, total: number, seed: number): Promise<string[]> {
    const percent = total > 0 ? Math.min(100, (100 * size) / total) : 100;
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM patients TABLESAMPLE BERNOULLI ($2) REPEATABLE ($3)
        WHERE organization_id = $1 AND deleted_at IS NULL LIMIT $4`,
      [organizationId, percent, seed, size],
    );
    return rows.map((r) => r.id);
  }

  /**
   * What the model fit reads of these patients: their completed visits before `now` (first, last, count, value),
   * computed exactly as the features query computes firstVisitAt, lastVisitAt, completedVisits and
   * visitValueCents, for those with at least one (the others cannot enter a fit). Only `appointments` is read:
   * for a 40,000-patient sample this is a fraction of the features query.
   */
  async visitHistories(organizationId: string, ids: readonly string[], now: Date): Promise<FitRow[]> {
    // One index range per sampled patient (LATERAL): with `patient_id = ANY($2)` over a 40,000-id sample the
    // planner chose a sequential scan of the whole table, testing each of its rows against the array (4.3 s with two
    // parallel workers at a million patients, against 2.7 s this way, cold, and 0.5 s with the pages cached).
    const rows = await this.db.query<{ id: string; first: number; last: number; visits: number; value: number }>(
      `SELECT s.id, v.first, v.last, v.visits, v.value
         FROM unnest($2::uuid[]) AS s(id)
        CROSS JOIN LATERAL (
          SELECT (date_part('epoch', min(starts_at)) * 1000) AS first, (date_part('epoch', max(starts_at)) * 1000) AS last,
                 count(*)::int AS visits, coalesce(sum(value_cents), 0)::float8 AS value
            FROM appointments
           WHERE organization_id = $1 AND patient_id = s.id AND status = 'completed' AND starts_at <= $3
        ) v
        WHERE v.visits > 0`,
      [organizationId, ids, now],
    );
    return rows.map((r) => ({
      id: r.id,
      features: emptyFeatures({ firstVisitAt: r.first, lastVisitAt: r.last, completedVisits: r.visits, visitValueCents: r.value }),
    }));
  }

  /**
   * The latest fit attempt of each model, or null when the organization has none. Two attempts with the same
   * `fitted_at` (a fixed clock, or `--as-of` the same instant twice) are told apart by when their rows were written.
   */
  async latestFits(organizationId: string): Promise<StoredFits | null> {
    const rows = await this.db.query<{ model: ModelKind; params: Record<string, number>; fitted_at: Date; accepted: boolean }>(
      `SELECT DISTINCT ON (model) model, params, fitted_at, accepted FROM model_fits
        WHERE organization_id = $1 ORDER BY model, fitted_at DESC, created_at DESC`,
      [organizationId],
    );
    const bg = rows.find((r) => r.model === ModelKind.BgNbd);
    const gg = rows.find((r) => r.model === ModelKind.GammaGamma);
    if (!bg || !gg) return null;
    const fittedAt = bg.fitted_at < gg.fitted_at ? bg.fitted_at : gg.fitted_at;
    if (!bg.accepted || !gg.accepted) return { models: null, fittedAt };
    return {
      models: {
        bgnbd: { r: bg.params.r, alpha: bg.params.alpha, a: bg.params.a, b: bg.params.b },
        gammaGamma: { p: gg.params.p, q: gg.params.q, v: gg.params.v },
      },
      fittedAt,
    };
  }

  async insertFit(organizationId: string, fit: NewModelFit): Promise<void> {
    await this.db.query(
      `INSERT INTO model_fits (organization_id, model, params, log_likelihood, sample_size, fitted_at, duration_ms, accepted, created_at, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, clock_timestamp(), clock_timestamp())`,
      [organizationId, fit.model, JSON.stringify(fit.params), fit.logLikelihood, fit.sampleSize, fit.fittedAt, fit.durationMs, fit.accepted],
    );
  }

  /**
   * Writes scores back in one statement: the metrics rows, and today's risk-history row for the patients whose
   * score moved at least `riskHistoryStep` from the last recorded one (`recordHistory`). Small sets (request path)
   * go as one jsonb parameter and one upsert; large ones (organization-wide chunks) by COPY into a temporary table,
   * then an UPDATE of the rows the features read found (`hasMetrics`) and an INSERT of the others: no conflict
   * check per row, and a soft-deleted patient's row is never recreated. `deletedAmong`: patient ids whose metrics
   * rows go when the patient is soft-deleted (request path).
   *
   * Every row is rewritten (with `computed_at`, which the profile shows as `last_assessed`). The UPDATE leaves a
   * row's index entries alone when none of its indexed columns changed and its page has room (a HOT update):
   * hence the fillfactor of patient_metrics (the update prunes a full page's dead versions itself).
   */
  async saveScores(
    organizationId: string,
    scores: readonly PatientScores[],
    now: Date,
    today: string,
    deletedAmong: readonly string[] = [],
  ): Promise<void> {
    if (scores.length === 0 && deletedAmong.length === 0) return;
    // In primary-key order: the update then walks pk_patient_metrics (and a heap written in that order) sequentially.
    scores = sortedByPatient(scores);
    const params: unknown[] = [organizationId, now, today];
    let prefix = '';
    let t: string;
    if (this.db.copyIn && scores.length > 500) {
      t = await this.copyResults(scores);
    } else {
      params.push(JSON.stringify(scores.map((s) => Object.fromEntries(RESULT_COLUMNS.map(([name, , get]) => [name, name === 'risk_factors' ? s.riskFactors : get(s)])))));
      prefix = `t AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($${params.length}::jsonb) AS r(${COLUMN_DEFS})),`;
      t = 't';
    }
    let gone = '';
    if (deletedAmong.length) {
      params.push(deletedAmong);
      gone = `
       gone AS (
         DELETE FROM patient_metrics m USING patients p
         WHERE m.organization_id = $1 AND m.patient_id = ANY($${params.length}::uuid[]) AND p.id = m.patient_id
           AND p.deleted_at IS NOT NULL),`;
    }
    const historyRows = `
       history AS (${recordHistorySql(t, scores)})`;
    const insert = `
       ${insertMetricsSql('patient_metrics')}`;
    const onConflict = `
       ON CONFLICT (organization_id, patient_id) DO UPDATE SET ${METRIC_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')},
         stale = false, computed_at = EXCLUDED.computed_at, updated_at = EXCLUDED.updated_at`;
    if (t === 't' || scores.some((s) => s.hasMetrics === null)) {
      // A request-path batch (jsonb), or patients not looked up: one upsert. Measured with the UPDATE below instead, the features statement of
      // the connection's next transactions took three times as long to plan (a single-patient recompute went from
      // 15 to 27 ms); a fresh connection plans it as fast as before, so the organization-wide reader is unaffected.
      await this.db.query(`WITH ${prefix}${gone}${historyRows}${insert} FROM ${t} t${onConflict}`, params);
      return;
    }
    // The metrics rows to update lie between the first and the last id: the join reads that primary-key range only.
    const first = params.push(scores[0].patientId);
    const last = params.push(scores[scores.length - 1].patientId);
    // A patient is in one set or the other (has_metrics), so no row is touched twice in the statement. A row
    // inserted meanwhile (request path) is updated by ON CONFLICT; a row deleted meanwhile (the patient was
    // soft-deleted) is not recreated by the UPDATE.
    const inserts = scores.some((s) => !s.hasMetrics);
    await this.db.query(
      `WITH ${prefix}${gone}${historyRows},
       inserted AS (${insert}
         FROM ${t} t WHERE ${inserts ? 'NOT t.has_metrics' : 'FALSE'}${onConflict})
       UPDATE patient_metrics m SET ${METRIC_COLUMNS.map((c) => `${c} = ${METRIC_VALUE[c] ?? `t.${c}`}`).join(', ')},
         stale = false, computed_at = $2, updated_at = $2
       FROM ${t} t
       WHERE m.patient_id = t.patient_id AND t.has_metrics AND m.organization_id = $1
         AND m.patient_id >= $${first}::uuid AND m.patient_id <= $${last}::uuid`,
      params,
    );
  }

  /**
   * COPYs `scores` into the transaction's temporary table `scoring_results` (emptied first, and at commit); returns
   * its name. Needs a runner that can stream COPY.
   */
  async copyResults(scores: readonly PatientScores[]): Promise<string> {
    if (!this.db.copyIn) throw new Error('copyResults needs a runner with COPY');
    await this.db.query(`CREATE TEMP TABLE IF NOT EXISTS scoring_results (${COLUMN_DEFS}) ON COMMIT DELETE ROWS`);
    await this.db.query(`TRUNCATE scoring_results`);
    await this.db.copyIn(`COPY scoring_results (${COLUMN_LIST}) FROM STDIN`, toCopyPieces(scores));
    return 'scoring_results';
  }

  /** Metrics rows of soft-deleted patients among `selector` go: lists and counts only show live patients. */
  async deleteMetricsOfDeletedPatients(organizationId: string, selector: PatientSelector): Promise<void> {
    const params: unknown[] = [organizationId];
    let predicate = 'TRUE';
    if (selector.kind === 'ids') {
      params.push(selector.ids);
      predicate = 'm.patient_id = ANY($2::uuid[])';
    }
    await this.db.query(
      `DELETE FROM patient_metrics m USING patients p
        WHERE m.organization_id = $1 AND p.id = m.patient_id AND p.deleted_at IS NOT NULL AND ${predicate}`,
      params,
    );
  }
}
