import { Injectable } from '@nestjs/common';
import type { BatchTenantSql, TenantSql } from 'src/database/tenant/tenant-sql';
import { isBatch } from 'src/scoring/features/features.repository';
import type { PatientSelector } from 'src/scoring/features/feature-row';
import type { PatientScores } from 'src/scoring/patient-scores';
import {
  COLUMN_DEFS,
  COLUMN_LIST,
  insertMetricsSql,
  jsonRowsBuffer,
  METRIC_COLUMNS,
  METRIC_VALUE,
  recordHistorySql,
  sortedByPatient,
  toCopyPieces,
} from 'src/scoring/scores/scores-copy';

/** The metrics rows of organization $1's deleted patients (deleteMetricsOfDeletedPatients; a run's last statement). */
export const DELETE_METRICS_OF_DELETED_SQL = `DELETE FROM patient_metrics m USING patients p
        WHERE m.organization_id = $1 AND p.id = m.patient_id AND p.deleted_at IS NOT NULL`;

/**
 * How saveScores writes the metrics rows: one INSERT ... ON CONFLICT DO UPDATE ('upsert'), or an UPDATE of the rows
 * the features read found with an INSERT of the others ('update'; needs `hasMetrics`, else the upsert). The default:
 * 'upsert' for 500 rows or fewer (a json parameter), 'update' for more (COPY). bench/metrics-write-bench.ts compares the two.
 */
export type MetricsWriteForm = 'upsert' | 'update';

/** Where the scores go: `patient_metrics` and today's risk history, on the caller's tenant handle. */
@Injectable()
export class ScoresRepository {
  /**
   * Writes scores back in one statement: the metrics rows, and today's risk-history row for the patients whose
   * score moved at least `riskHistoryStep` from the last recorded one (`recordHistory`). Small sets (request path)
   * go as one json parameter and one upsert; large ones (organization-wide chunks) by COPY into a temporary table,
   * then an UPDATE of the rows the features read found (`hasMetrics`) and an INSERT of the others: no conflict
   * check per row, and a soft-deleted patient's row is never recreated. `deletedAmong`: patient ids whose metrics
   * rows go when the patient is soft-deleted (request path).
   *
   * Every row is rewritten (with `computed_at`, which the profile shows as `last_assessed`). The UPDATE leaves a
   * row's index entries alone when none of its indexed columns changed and its page has room (a HOT update):
   * hence the fillfactor of patient_metrics (the update prunes a full page's dead versions itself).
   */
  async saveScores(
    db: TenantSql,
    scores: readonly PatientScores[],
    now: Date,
    today: string,
    deletedAmong: readonly string[] = [],
    options: { form?: MetricsWriteForm } = {},
  ): Promise<void> {
    if (scores.length === 0 && deletedAmong.length === 0) return;
    // In primary-key order: the update then walks pk_patient_metrics (and a heap written in that order) sequentially.
    scores = sortedByPatient(scores);
    const params: unknown[] = [db.organizationId, now, today];
    let prefix = '';
    let t: string;
    if (isBatch(db) && scores.length > 500) {
      t = await this.copyResults(db, scores);
    } else {
      // The rows as one `json` value (the text JSON.stringify gives the rows, RESULT_COLUMNS' names), sent as bytes
      // (json's binary form: its text) and read by json_to_recordset: the server's CPU as with jsonb (measured), and
      // in Node no object per row and no string of the whole array (jsonRowsBuffer; docs/scaling.md, "The night's
      // CPU per clinic").
      params.push(jsonRowsBuffer(scores));
      prefix = `t AS MATERIALIZED (SELECT * FROM json_to_recordset($${params.length}::json) AS r(${COLUMN_DEFS})),`;
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
    const form = options.form ?? (t === 't' ? 'upsert' : 'update');
    if (form === 'upsert' || scores.some((s) => s.hasMetrics === null)) {
      // A request-path batch (json), or patients not looked up: one upsert. Measured with the UPDATE below instead, the features statement of
      // the connection's next transactions took three times as long to plan (a single-patient recompute went from
      // 15 to 27 ms); a fresh connection plans it as fast as before, so the organization-wide reader is unaffected.
      // A small clinic's night (json, 200 rows) too: the UPDATE below instead was measured and not kept (docs/scaling.md,
      // "The metrics write of a small clinic": the same backend CPU per clinic).
      await db.query(`WITH ${prefix}${gone}${historyRows}${insert} FROM ${t} t${onConflict}`, params);
      return;
    }
    // The metrics rows to update lie between the first and the last id: the join reads that primary-key range only.
    const first = params.push(scores[0].patientId);
    const last = params.push(scores[scores.length - 1].patientId);
    // A patient is in one set or the other (has_metrics), so no row is touched twice in the statement. A row
    // inserted meanwhile (request path) is updated by ON CONFLICT; a row deleted meanwhile (the patient was
    // soft-deleted) is not recreated by the UPDATE.
    const inserts = scores.some((s) => !s.hasMetrics);
    await db.query(
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
  async copyResults(db: BatchTenantSql, scores: readonly PatientScores[]): Promise<string> {
    await db.query(`CREATE TEMP TABLE IF NOT EXISTS scoring_results (${COLUMN_DEFS}) ON COMMIT DELETE ROWS`);
    await db.query(`TRUNCATE scoring_results`);
    await db.copyIn(`COPY scoring_results (${COLUMN_LIST}) FROM STDIN`, toCopyPieces(scores));
    return 'scoring_results';
  }

  /** Metrics rows of soft-deleted patients among `selector` go: lists and counts only show live patients. */
  async deleteMetricsOfDeletedPatients(db: TenantSql, selector: PatientSelector): Promise<void> {
    if (selector.kind !== 'ids') {
      await db.query(DELETE_METRICS_OF_DELETED_SQL, [db.organizationId]);
      return;
    }
    await db.query(`${DELETE_METRICS_OF_DELETED_SQL} AND m.patient_id = ANY($2::uuid[])`, [db.organizationId, selector.ids]);
  }
}
