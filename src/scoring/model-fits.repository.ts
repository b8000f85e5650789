import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { BgNbdParams } from 'src/scoring/domain/bg-nbd';
import type { GammaGammaParams } from 'src/scoring/domain/gamma-gamma';
import { ModelKind } from 'src/scoring/domain/scoring-models';

/** The organization's latest fit attempt. */
export interface StoredFits {
  /** The fitted parameters; null when that attempt was not accepted (the domain's fallbacks apply). */
  models: { bgnbd: BgNbdParams; gammaGamma: GammaGammaParams } | null;
  fittedAt: Date;
  /** The scoring settings it was fitted under (scoringSettingsKey); null when not recorded (before 1795567850000). */
  settingsKey: string | null;
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
  settingsKey: string;
}

/** A row of the latest fit attempt per model (what `latestFits` reads; the recompute's setup statement too). */
export interface LatestFitRow {
  model: ModelKind;
  params: Record<string, number>;
  fitted_at: Date;
  accepted: boolean;
  settings_key: string | null;
}

/** The latest fit attempt of each model, as StoredFits (null unless both models have one). */
export function storedFitsFrom(rows: readonly LatestFitRow[]): StoredFits | null {
  const bg = rows.find((r) => r.model === ModelKind.BgNbd);
  const gg = rows.find((r) => r.model === ModelKind.GammaGamma);
  if (!bg || !gg) return null;
  const fittedAt = bg.fitted_at < gg.fitted_at ? bg.fitted_at : gg.fitted_at;
  const settingsKey = bg.settings_key === gg.settings_key ? bg.settings_key : null;
  if (!bg.accepted || !gg.accepted) return { models: null, fittedAt, settingsKey };
  return {
    models: {
      bgnbd: { r: bg.params.r, alpha: bg.params.alpha, a: bg.params.a, b: bg.params.b },
      gammaGamma: { p: gg.params.p, q: gg.params.q, v: gg.params.v },
    },
    fittedAt,
    settingsKey,
  };
}

/** The latest fit attempt per model of organization $1 (LatestFitRow). */
export const LATEST_FITS_SQL = `SELECT DISTINCT ON (model) model, params, fitted_at, accepted, settings_key FROM model_fits
        WHERE organization_id = $1 ORDER BY model, fitted_at DESC, created_at DESC`;

/** The organization's CLV model fit attempts (`model_fits`), on its tenant handle. */
@Injectable()
export class ModelFitsRepository {
  /**
   * The latest fit attempt of each model, or null when the organization has none. Two attempts with the same
   * `fitted_at` (a fixed clock, or `--as-of` the same instant twice) are told apart by when their rows were written.
   */
  async latestFits(db: TenantSql): Promise<StoredFits | null> {
    const rows = await db.query<LatestFitRow>(LATEST_FITS_SQL, [db.organizationId]);
    return storedFitsFrom(rows);
  }

  async insertFit(db: TenantSql, fit: NewModelFit): Promise<void> {
    await db.query(
      `INSERT INTO model_fits (organization_id, model, params, log_likelihood, sample_size, fitted_at, duration_ms, accepted, settings_key, created_at, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, clock_timestamp(), clock_timestamp())`,
      [
        db.organizationId,
        fit.model,
        JSON.stringify(fit.params),
        fit.logLikelihood,
        fit.sampleSize,
        fit.fittedAt,
        fit.durationMs,
        fit.accepted,
        fit.settingsKey,
      ],
    );
  }
}
