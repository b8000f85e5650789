import { Injectable } from '@nestjs/common';
import type { BatchTenantSql, TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';
import { emptyFeatures } from 'src/scoring/domain/patient-features';
import type { FitRow } from 'src/scoring/domain/scoring-models';
import type { ScoringSettings } from 'src/scoring/domain/scoring-settings';
import { FEATURE_COLUMNS, type FeatureRow, featureRowFromValues, type PatientSelector } from 'src/scoring/features/feature-row';
import { featuresQuery, type FeaturesQueryOptions } from 'src/scoring/features/features.sql';
import { keptFeaturesQuery } from 'src/scoring/features/kept-features.sql';
import { referredNetRevenueQuery } from 'src/scoring/features/referred-revenue.sql';

/** A batch handle (its own connection: rows as arrays, COPY) rather than a request's. */
export const isBatch = (db: TenantSql): db is BatchTenantSql => typeof (db as Partial<BatchTenantSql>).queryArrays === 'function';

/** chunkBoundaries' statement: organization $1, chunks of $2 patients. */
export const CHUNK_BOUNDARIES_SQL = `SELECT array_agg(id::text ORDER BY id) FILTER (WHERE rn > 1 AND rn % $2 = 1) AS ids, count(*)::int AS patients FROM (
         SELECT id, row_number() OVER (ORDER BY id) AS rn FROM patients WHERE organization_id = $1 AND deleted_at IS NULL
       ) s`;

/**
 * What the scoring engine reads of an organization's records: the features of a selection of patients (fresh or
 * kept), the chunking and sampling of an organization-wide run, the visits a model fit reads. Every statement runs
 * on the caller's tenant handle: the request path's transaction, or an organization-wide run's own connection.
 */
@Injectable()
export class FeaturesRepository {
  async countPatients(db: TenantSql): Promise<number> {
    const rows = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`,
      [db.organizationId],
    );
    return rows[0].n;
  }

  /**
   * The ids at which chunks of `chunkSize` patients begin, in id order (the first chunk's start excluded), and the
   * number of live patients: one walk of the (organization_id, id) index. Ids may be random (v4) or time-ordered
   * (v7, the seed's); either way the chunks come out equal.
   */
  async chunkBoundaries(db: TenantSql, chunkSize: number): Promise<{ ids: string[]; patients: number }> {
    const rows = await db.query<{ ids: string[] | null; patients: number }>(CHUNK_BOUNDARIES_SQL, [
      db.organizationId,
      Math.max(1, Math.floor(chunkSize)),
    ]);
    return { ids: rows[0].ids ?? [], patients: rows[0].patients };
  }

  async features(
    db: TenantSql,
    selector: PatientSelector,
    now: Date,
    settings: ScoringSettings,
    timeZone: string,
    options: FeaturesQueryOptions = {},
  ): Promise<FeatureRow[]> {
    const q = featuresQuery(db.organizationId, selector, now, settings, timeZone, options);
    if (!isBatch(db)) return db.query<FeatureRow>(q.sql, q.params);
    // As arrays, each turned into a FeatureRow of a fixed shape (featureRowFromValues reads them by position).
    const { columns, rows } = await db.queryArrays(q.sql, q.params);
    if (columns.length !== FEATURE_COLUMNS.length || columns.some((c, i) => c !== FEATURE_COLUMNS[i])) {
      throw new Error(`features query columns ${columns.join(', ')} differ from FEATURE_COLUMNS`);
    }
    const features = new Array<FeatureRow>(rows.length);
    for (let i = 0; i < rows.length; i++) features[i] = featureRowFromValues(rows[i]);
    return features;
  }

  /**
   * The kept features of an id range rolled forward to `now` (keptFeaturesQuery): `rows` for the patients whose kept
   * row could be used, `unkept` the ids of the others (to read afresh, with `features(..., { keep })`). `history`: how
   * the risk history is read (keptFeaturesQuery's: the lookups unless 'window').
   */
  async keptFeatures(
    db: BatchTenantSql,
    range: Extract<PatientSelector, { kind: 'range' }>,
    now: Date,
    settings: ScoringSettings,
    timeZone: string,
    history?: 'window' | 'lookups',
  ): Promise<{ rows: FeatureRow[]; unkept: string[] }> {
    const q = keptFeaturesQuery(db.organizationId, range, now, settings, timeZone, history);
    const { columns, rows } = await db.queryArrays(q.sql, q.params);
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
  async hasKeptFeatures(db: TenantSql, settingsKey: string): Promise<boolean> {
    const rows = await db.query<{ kept: boolean }>(
      `SELECT EXISTS (SELECT FROM patient_features WHERE organization_id = $1 AND settings_key = $2 AND computed_for IS NOT NULL) AS kept`,
      [db.organizationId, settingsKey],
    );
    return rows[0].kept;
  }

  /** referredNetRevenueCents of the organization's referrers (absent: 0), in one pass (referredNetRevenueQuery). */
  async referredNetRevenue(db: TenantSql, now: Date): Promise<Map<string, number>> {
    const q = referredNetRevenueQuery(db.organizationId, now);
    const rows = await db.query<{ patient_id: string; referred_net: number }>(q.sql, q.params);
    return new Map(rows.map((r) => [r.patient_id, r.referred_net]));
  }

  /**
   * Ids of a reproducible random sample of about `size` live patients (Bernoulli sampling, seeded). An organization of
   * no more than `size` patients (`total`) is sampled whole: its patients through the index, in the order the sample
   * would have given them (the table's), since a sample of 100 % reads the pages of every organization's patients (1.1
   * s for a clinic of 5,000 beside a million-patient one, found with `auto_explain`).
   */
  async samplePatientIds(db: TenantSql, size: number, total: number, seed: number): Promise<string[]> {
    if (total <= size) {
      const all = await db.query<{ id: string }>(
        `SELECT id FROM patients WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY ctid LIMIT $2`,
        [db.organizationId, size],
      );
      return all.map((r) => r.id);
    }
    const percent = (100 * size) / total;
    const rows = await db.query<{ id: string }>(
      `SELECT id FROM patients TABLESAMPLE BERNOULLI ($2) REPEATABLE ($3)
        WHERE organization_id = $1 AND deleted_at IS NULL LIMIT $4`,
      [db.organizationId, percent, seed, size],
    );
    return rows.map((r) => r.id);
  }

  /**
   * What the model fit reads of these patients: their completed visits before `now` (first, last, count, value),
   * computed exactly as the features query computes firstVisitAt, lastVisitAt, completedVisits and
   * visitValueCents, for those with at least one (the others cannot enter a fit). Only `appointments` is read:
   * for a 40,000-patient sample this is a fraction of the features query.
   */
  async visitHistories(db: TenantSql, ids: readonly string[], now: Date): Promise<FitRow[]> {
    // One index range per sampled patient (LATERAL): with `patient_id = ANY($2)` over a 40,000-id sample the
    // planner chose a sequential scan of the whole table, testing each of its rows against the array (4.3 s with two
    // parallel workers at a million patients, against 2.7 s this way, cold, and 0.5 s with the pages cached). The
    // organization unseen by the planner (UNSEEN_ORGANIZATION): for a clinic the statistics did not know yet (the
    // rescore after a new clinic's FHIR import) it took the completed visits' index by date and read all of the
    // clinic's visits once per patient, 13.1 s for 5,000 patients instead of about 0.1 s.
    const rows = await db.query<{ id: string; first: number; last: number; visits: number; value: number }>(
      `SELECT s.id, v.first, v.last, v.visits, v.value
         FROM unnest($2::uuid[]) AS s(id)
        CROSS JOIN LATERAL (
          SELECT (date_part('epoch', min(starts_at)) * 1000) AS first, (date_part('epoch', max(starts_at)) * 1000) AS last,
                 count(*)::int AS visits, coalesce(sum(value_cents), 0)::float8 AS value
            FROM appointments
           WHERE organization_id = ${UNSEEN_ORGANIZATION} AND patient_id = s.id AND status = 'completed' AND starts_at <= $3
        ) v
        WHERE v.visits > 0`,
      [db.organizationId, ids, now],
    );
    return rows.map((r) => ({
      id: r.id,
      features: emptyFeatures({ firstVisitAt: r.first, lastVisitAt: r.last, completedVisits: r.visits, visitValueCents: r.value }),
    }));
  }
}
