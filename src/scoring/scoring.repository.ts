import type { BgNbdParams } from 'src/scoring/domain/bg-nbd';
import type { GammaGammaParams } from 'src/scoring/domain/gamma-gamma';
import { ModelKind } from 'src/scoring/entities/scoring.enums';
import { FeatureRow, featuresQuery, PatientSelector, RawFeatureRow, toFeatureRow } from 'src/scoring/features.query';
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

export interface StoredFits {
  bgnbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
  fittedAt: Date;
}

export interface NewModelFit {
  model: ModelKind;
  params: Record<string, number>;
  logLikelihood: number | null;
  sampleSize: number;
  fittedAt: Date;
  durationMs: number;
}

/** Columns of the results handed back to PostgreSQL, in COPY order, with their SQL types. */
const RESULT_COLUMNS: readonly (readonly [string, string, (s: PatientScores) => string | number | null])[] = [
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
];
const COLUMN_LIST = RESULT_COLUMNS.map(([name]) => name).join(', ');
const COLUMN_DEFS = RESULT_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

/** COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
function copyValue(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export function toCopyText(scores: readonly PatientScores[]): string {
  let text = '';
  for (const s of scores) {
    text += RESULT_COLUMNS.map(([, , get]) => copyValue(get(s))).join('\t') + '\n';
  }
  return text;
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
   * The ids at which chunks of `chunkSize` patients begin, in id order (the first chunk's start excluded): one walk
   * of the (organization_id, id) index. Ids may be random (v4) or time-ordered (v7, the seed's); either way the
   * chunks come out equal.
   */
  async chunkBoundaries(organizationId: string, chunkSize: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM (
         SELECT id, row_number() OVER (ORDER BY id) AS rn FROM patients WHERE organization_id = $1 AND deleted_at IS NULL
       ) s WHERE rn > 1 AND rn % $2 = 1 ORDER BY id`,
      [organizationId, Math.max(1, Math.floor(chunkSize))],
    );
    return rows.map((r) => r.id);
  }

  async features(
    organizationId: string,
    selector: PatientSelector,
    now: Date,
    settings: ScoringSettings,
    timeZone: string,
  ): Promise<FeatureRow[]> {
    const q = featuresQuery(organizationId, selector, now, settings, timeZone);
    const rows = await this.db.query<RawFeatureRow>(q.sql, q.params);
    return rows.map(toFeatureRow);
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

  async latestFits(organizationId: string): Promise<StoredFits | null> {
    const rows = await this.db.query<{ model: ModelKind; params: Record<string, number>; fitted_at: Date }>(
      `SELECT DISTINCT ON (model) model, params, fitted_at FROM model_fits
        WHERE organization_id = $1 ORDER BY model, fitted_at DESC`,
      [organizationId],
    );
    const bg = rows.find((r) => r.model === ModelKind.BgNbd);
    const gg = rows.find((r) => r.model === ModelKind.GammaGamma);
    if (!bg || !gg) return null;
    return {
      bgnbd: { r: bg.params.r, alpha: bg.params.alpha, a: bg.params.a, b: bg.params.b },
      gammaGamma: { p: gg.params.p, q: gg.params.q, v: gg.params.v },
      fittedAt: bg.fitted_at < gg.fitted_at ? bg.fitted_at : gg.fitted_at,
    };
  }

  async insertFit(organizationId: string, fit: NewModelFit): Promise<void> {
    await this.db.query(
      `INSERT INTO model_fits (organization_id, model, params, log_likelihood, sample_size, fitted_at, duration_ms, created_at, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $6, $6)`,
      [organizationId, fit.model, JSON.stringify(fit.params), fit.logLikelihood, fit.sampleSize, fit.fittedAt, fit.durationMs],
    );
  }

  /**
   * Writes scores back in one statement: today's risk snapshot where the score changed, and the metrics rows
   * (inserted when missing). Small sets go as one jsonb parameter; large ones by COPY into a temporary table.
   * `deletedAmong`: patient ids whose metrics rows go when the patient is soft-deleted (request path).
   */
  async saveScores(
    organizationId: string,
    scores: readonly PatientScores[],
    now: Date,
    today: string,
    deletedAmong: readonly string[] = [],
  ): Promise<void> {
    if (scores.length === 0 && deletedAmong.length === 0) return;
    // In primary-key order: the upsert then walks pk_patient_metrics (and a heap written in that order) sequentially.
    scores = [...scores].sort((a, b) => (a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0));
    const params: unknown[] = [organizationId, now, today];
    let source: string;
    if (this.db.copyIn && scores.length > 500) {
      await this.db.query(`CREATE TEMP TABLE IF NOT EXISTS scoring_results (${COLUMN_DEFS}) ON COMMIT DELETE ROWS`);
      await this.db.query(`TRUNCATE scoring_results`);
      await this.db.copyIn(`COPY scoring_results (${COLUMN_LIST}) FROM STDIN`, toCopyText(scores));
      source = 'scoring_results';
    } else {
      params.push(JSON.stringify(scores.map((s) => Object.fromEntries(RESULT_COLUMNS.map(([name, , get]) => [name, name === 'risk_factors' ? s.riskFactors : get(s)])))));
      source = `jsonb_to_recordset($${params.length}::jsonb) AS r(${COLUMN_DEFS})`;
    }
    let gone = '';
    if (deletedAmong.length) {
      params.push(deletedAmong);
      gone = `,
       gone AS (
         DELETE FROM patient_metrics m USING patients p
         WHERE m.organization_id = $1 AND m.patient_id = ANY($${params.length}::uuid[]) AND p.id = m.patient_id
           AND p.deleted_at IS NOT NULL)`;
    }
    // Data-modifying CTEs see the rows as they were before the statement: the history compares the new score with
    // the metrics row before the upsert below overwrites it. The history keeps a row per patient per day on which
    // the score changed; the score on day D is the latest row on or before D.
    await this.db.query(
      `WITH t AS MATERIALIZED (SELECT * FROM ${source}),
       history AS (
         INSERT INTO risk_score_history (organization_id, patient_id, recorded_on, risk_score, created_at, updated_at)
         SELECT $1, t.patient_id, $3::date, t.risk_score, $2, $2
         FROM t LEFT JOIN patient_metrics m ON m.patient_id = t.patient_id
         WHERE m.patient_id IS NULL OR m.computed_at IS NULL OR m.risk_score IS DISTINCT FROM t.risk_score
         ON CONFLICT (patient_id, recorded_on) DO UPDATE SET risk_score = EXCLUDED.risk_score, updated_at = EXCLUDED.updated_at)${gone}
       INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_score, risk_level, risk_factors,
         risk_trend, engagement_score, ltv_cents, historical_revenue_cents, future_value_cents, referral_value_cents,
         total_sessions, avg_session_value_cents, last_appointment_at, next_appointment_at, last_contact_at,
         success_probability, first_visit_at, stale, computed_at, created_at, updated_at)
       SELECT $1, t.patient_id, t.sort_name, t.status, t.risk_score, t.risk_level, t.risk_factors, t.risk_trend,
         t.engagement_score, t.ltv_cents, t.historical_revenue_cents, t.future_value_cents, t.referral_value_cents,
         t.total_sessions, t.avg_session_value_cents, to_timestamp(t.last_appointment_ms / 1000),
         to_timestamp(t.next_appointment_ms / 1000), to_timestamp(t.last_contact_ms / 1000), t.success_probability,
         to_timestamp(t.first_visit_ms / 1000), false, $2, $2, $2
       FROM t
       ON CONFLICT (patient_id) DO UPDATE SET
         sort_name = EXCLUDED.sort_name, status = EXCLUDED.status, risk_score = EXCLUDED.risk_score,
         risk_level = EXCLUDED.risk_level, risk_factors = EXCLUDED.risk_factors, risk_trend = EXCLUDED.risk_trend,
         engagement_score = EXCLUDED.engagement_score, ltv_cents = EXCLUDED.ltv_cents,
         historical_revenue_cents = EXCLUDED.historical_revenue_cents, future_value_cents = EXCLUDED.future_value_cents,
         referral_value_cents = EXCLUDED.referral_value_cents, total_sessions = EXCLUDED.total_sessions,
         avg_session_value_cents = EXCLUDED.avg_session_value_cents, last_appointment_at = EXCLUDED.last_appointment_at,
         next_appointment_at = EXCLUDED.next_appointment_at, last_contact_at = EXCLUDED.last_contact_at,
         success_probability = EXCLUDED.success_probability, first_visit_at = EXCLUDED.first_visit_at, stale = false, computed_at = EXCLUDED.computed_at,
         updated_at = EXCLUDED.updated_at`,
      params,
    );
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
