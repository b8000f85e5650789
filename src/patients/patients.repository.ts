import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { UNSEEN_ORGANIZATION } from 'src/database/tenant/unseen-organization';
import { likePrefix, PatientCountsRepository, prefixUpperBound } from 'src/patients/patient-counts.repository';
import type { ListPosition, ListSpec, ProfileSort, Segment } from 'src/patients/profile-list';
import type { PatientStatus } from 'src/scoring/domain/patient-status';
import type { RiskLevel } from 'src/scoring/domain/risk-score';
import type { PrefetchedKeys } from 'src/records/phi/phi-keyring-core';
import type { StoredPatientKey } from 'src/records/phi/phi-keys.repository';

/**
 * A list row as read: PHI still encrypted; timestamps as PostgreSQL prints them (`2026-11-25 08:30:00.123456+00`, the
 * connections run with TimeZone UTC and DateStyle ISO): the mapper turns that text into ISO 8601 directly
 * (isoFromPg), where parsing 400 Date objects per page and printing them again was 8 % of a page's CPU.
 */
export interface ProfileListRow {
  id: string;
  name: string;
  /** Phone and email in one ciphertext (src/records/phi/patient-contact.ts); null on rows stored before it existed. */
  contact_enc: string | null;
  /** Read only when `contact_enc` is null (null otherwise: not sent over the wire for nothing). */
  phone_enc: string | null;
  email_enc: string | null;
  ltv_cents: number;
  total_sessions: number;
  last_appointment_at: string | null;
  next_appointment_at: string | null;
  status: PatientStatus;
  risk_score: number;
  engagement_score: number;
  registered_at: string;
  updated_at: string;
  /** The row's sort key as PostgreSQL prints it (null in the unkeyed segment), for the next cursor. */
  sort_key: string | null;
  segment: Segment;
  /**
   * Read only with `withKeys` (else absent): the patient's stored key (null when none) and every version of the
   * organization's key, for PhiKeyring.keysFor without a statement of its own (`prefetchedKeys`).
   */
  key_wrapped?: Buffer | null;
  key_version?: number | null;
  key_mine?: boolean | null;
  organization_keys?: { version: number; wrapped_key: string; mine: boolean }[] | null;
}

/**
 * The stored keys a `withKeys` page read with its rows (the organization's from any row: every row has them all).
 */
export function prefetchedKeys(rows: readonly ProfileListRow[]): PrefetchedKeys {
  const patients: StoredPatientKey[] = [];
  for (const r of rows) {
    if (r.key_wrapped && r.key_version !== null && r.key_version !== undefined) {
      patients.push({ patient_id: r.id, wrapped_key: r.key_wrapped, kek_version: r.key_version, mine: r.key_mine === true });
    }
  }
  return { patients, organization: rows[0]?.organization_keys ?? [] };
}

/**
 * The columns and join of `withKeys` (`$1` the organization, `row` the patient's alias): the patient's stored key by
 * primary key, and the organization's keys (one uncorrelated subquery, run once per statement; a handful of rows).
 */
const KEY_COLUMNS = `, pk.wrapped_key AS key_wrapped, pk.kek_version AS key_version, pk.created_at = now() AS key_mine,
  (SELECT json_agg(json_build_object('version', ok.version, 'wrapped_key', ok.wrapped_key, 'mine', ok.created_at = now()) ORDER BY ok.version)
     FROM organization_keys ok WHERE ok.organization_id = $1) AS organization_keys`;
const keyJoin = (alias: string): string =>
  ` LEFT JOIN patient_keys pk ON pk.organization_id = ${UNSEEN_ORGANIZATION} AND pk.patient_id = ${alias}.id`;

/**
 * PREPARED_PAGE: the list's first and cursor pages without a name search (the form without rows to skip) are sent
 * with a `prepare` name, one per text (TenantDb.statements with `prepared`: the list's reads), so that the server
 * plans each text once per connection instead of on every page, for every organization alike (about half a
 * millisecond of the server's CPU per page on a small clinic, as much as running it). Their plan suits every
 * organization once generic: an ordered scan of the sort's index from the organization's first entry (or the
 * cursor's), the organization and the cursor as parameters and the LIMIT written into the text (a LIMIT parameter
 * would be planned as a tenth of the organization's rows). A name search (whose prefix decides between the sort's
 * index and the name's) and pages that skip rows keep their literals and a plan of their own.
 */
const pageNames = new Map<string, string>();
const preparedPageName = (sql: string): string => {
  let name = pageNames.get(sql);
  if (name === undefined) {
    if (pageNames.size >= 1_000) pageNames.clear();
    name = `patients-page-${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    pageNames.set(sql, name);
  }
  return name;
};

/** One patient in full as read: PHI still encrypted; metrics columns null when the patient has no metrics row. */
export interface ProfileRow {
  id: string;
  name: string;
  phone_enc: string | null;
  email_enc: string | null;
  date_of_birth_enc: string | null;
  address_enc: string | null;
  conditions_enc: string | null;
  allergies_enc: string | null;
  medications_enc: string | null;
  preferred_channel: string;
  marketing_consent: boolean;
  appointment_reminders: boolean;
  registered_at: Date;
  updated_at: Date;
  ltv_cents: number | null;
  total_sessions: number | null;
  avg_session_value_cents: number | null;
  last_appointment_at: Date | null;
  next_appointment_at: Date | null;
  risk_score: number | null;
  risk_level: RiskLevel | null;
  risk_factors: unknown[] | null;
  computed_at: Date | null;
  metrics_updated_at: Date | null;
  history: { id: string; starts_at: string; type: string; status: string; value_cents: number; notes_enc: string | null }[];
}

/** The sort key column of each sort; every one has an index (organization_id[, status], column, patient_id). */
const SORT_COLUMN: Record<ProfileSort, { column: string; type: string; nullable: boolean }> = {
  name: { column: 'sort_name', type: 'varchar', nullable: false },
  ltv: { column: 'ltv_cents', type: 'integer', nullable: false },
  last_appointment: { column: 'last_appointment_at', type: 'timestamptz', nullable: true },
  risk_score: { column: 'risk_score', type: 'real', nullable: false },
};

export const isNullableSort = (sort: ProfileSort): boolean => SORT_COLUMN[sort].nullable;

/**
 * From this OFFSET on (no cursor, no name search) a page is read from whichever end of its segment is nearer
 * (`PatientsRepository.page`). The caller reads such a page in one snapshot (TenantDb.read with `snapshot`).
 */
export const DEEP_OFFSET = 10_000;

/** Whether `page` reads `spec` as a deep OFFSET page (from the far end: needs one snapshot, see DEEP_OFFSET). */
export const isDeepOffset = (spec: ListSpec, deepOffset = DEEP_OFFSET): boolean => spec.after === null && spec.search === null && spec.offset >= deepOffset;

/** The list's PHI: the contact ciphertext, and phone and email only for a row without one (stored before it). */
const CONTACT_COLUMNS = `p.contact_enc, CASE WHEN p.contact_enc IS NULL THEN p.phone_enc END AS phone_enc,
  CASE WHEN p.contact_enc IS NULL THEN p.email_enc END AS email_enc`;

const LIST_COLUMNS = `p.id, p.name, ${CONTACT_COLUMNS}, m.ltv_cents, m.total_sessions, m.last_appointment_at::text,
  m.next_appointment_at::text, m.status, m.risk_score, m.engagement_score, p.registered_at::text,
  greatest(p.updated_at, m.updated_at)::text AS updated_at`;

/** The same list columns for the shallow page form (metrics read with the page, `patients` joined as `p`). */
const PAGE_METRIC_COLUMNS = `m.ltv_cents, m.total_sessions, m.last_appointment_at, m.next_appointment_at, m.status, m.risk_score,
  m.engagement_score, m.updated_at AS metrics_updated_at`;
const PAGE_LIST_COLUMNS = `p.id, p.name, p.contact_enc, p.phone_enc, p.email_enc, page.ltv_cents, page.total_sessions, page.last_appointment_at::text,
  page.next_appointment_at::text, page.status, page.risk_score, page.engagement_score, p.registered_at::text,
  greatest(p.updated_at, page.metrics_updated_at)::text AS updated_at`;

/**
 * The SQL of the patient list and profile. Every statement names its organization and runs on a tenant handle
 * (row-level security as a second layer). Plans: docs/queries/.
 */
@Injectable()
export class PatientsRepository {
  constructor(private readonly counts: PatientCountsRepository) {}

  /**
   * `spec.limit + 1` rows of a list page (the extra one tells whether a next page exists), across the two segments
   * of a sort whose key can be missing (keyed rows first, then the rows without a key). The app and the read
   * benchmark's floor both call this. `withKeys`: each row also carries its patient's stored key and the
   * organization's keys (`prefetchedKeys`), so that no statement of the keyring follows (the list on a clinic's
   * first request in this process, when none of its keys are cached).
   */
  async page(db: TenantSql, spec: ListSpec, options: { deepOffset?: number; withKeys?: boolean } = {}): Promise<ProfileListRow[]> {
    const take = spec.limit + 1;
    const after = spec.after;
    const withKeys = options.withKeys === true;
    if (isDeepOffset(spec, options.deepOffset)) return this.deepPage(db, spec, take, withKeys);
    // The keyed segment of a page without a name search is read by a prepared statement (see PREPARED_PAGE).
    const prepare = spec.search === null;
    if (!isNullableSort(spec.sort)) return this.listSegment(db, spec, 'keyed', after, spec.offset, take, { withKeys, prepare });
    let keyed: ProfileListRow[] = [];
    if (after?.segment !== 'unkeyed') {
      keyed = await this.listSegment(db, spec, 'keyed', after, spec.offset, take, { withKeys, prepare });
      if (keyed.length >= take) return keyed;
    }
    // Into the patients without a sort key. An OFFSET that skipped the whole keyed segment continues past its size.
    let skip = 0;
    if (!after && spec.offset > 0 && keyed.length === 0) skip = Math.max(0, spec.offset - (await this.countKeyed(db, spec)));
    const unkeyed = await this.listSegment(db, spec, 'unkeyed', after?.segment === 'unkeyed' ? after : null, skip, take - keyed.length, { withKeys });
    return keyed.concat(unkeyed);
  }

  /**
   * A page far into the list. An index-only scan costs about 0.3 µs per entry it skips (offset=900000 of a million
   * patients: ~300 ms), so the page is read from the nearer end of its segment: the 900,000th of 1,000,000 in one
   * order is the 99,900th in the other. The segments' sizes come from the maintained counts (patient_metric_counts,
   * kept by triggers in the same transactions as the rows) and, for a sort whose key can be missing, an index count
   * of the patients without one; the caller reads them and the page in one snapshot, so they agree.
   */
  private async deepPage(db: TenantSql, spec: ListSpec, take: number, withKeys: boolean): Promise<ProfileListRow[]> {
    const total = await this.counts.countStatus(db, spec.status);
    const unkeyedSize = isNullableSort(spec.sort) ? await this.countUnkeyed(db, spec) : 0;
    const keyedSize = Math.max(0, total - unkeyedSize);
    const rows: ProfileListRow[] = [];
    if (spec.offset < keyedSize) {
      rows.push(...(await this.segmentRange(db, spec, 'keyed', spec.offset, Math.min(take, keyedSize - spec.offset), keyedSize, withKeys)));
    }
    const start = Math.max(0, spec.offset - keyedSize);
    const more = Math.min(take - rows.length, unkeyedSize - start);
    if (more > 0) rows.push(...(await this.segmentRange(db, spec, 'unkeyed', start, more, unkeyedSize, withKeys)));
    return rows;
  }

  /** Rows [start, start + n) of a segment of `size` rows, scanned from the nearer end. */
  private async segmentRange(
    db: TenantSql,
    spec: ListSpec,
    segment: Segment,
    start: number,
    n: number,
    size: number,
    withKeys: boolean,
  ): Promise<ProfileListRow[]> {
    const fromEnd = size - start - n;
    if (start <= fromEnd) return this.listSegment(db, spec, segment, null, start, n, { withKeys });
    return (await this.listSegment(db, spec, segment, null, fromEnd, n, { reverse: true, withKeys })).reverse();
  }

  /** Patients matching the filter who have no key for the sort (a range of the sort's index: `IS NULL`). */
  private async countUnkeyed(db: TenantSql, spec: ListSpec): Promise<number> {
    const params: unknown[] = [db.organizationId];
    let status = '';
    if (spec.status) status = `AND status = $${params.push(spec.status)}`;
    const rows: { n: string }[] = await db.query(
      `SELECT count(*)::text AS n FROM patient_metrics WHERE organization_id = $1 ${status} AND ${SORT_COLUMN[spec.sort].column} IS NULL`,
      params,
    );
    return Number(rows[0].n);
  }

  /**
   * One segment of a list page. With rows to skip, the page's ids come first from an index-only scan of the sort's
   * index (cheap even at OFFSET 900000), then only those rows are fetched from `patients` and `patient_metrics` by
   * primary key; with none (first and cursor pages), the metrics rows come with the index scan. The
   * `LATERAL ... OFFSET 0` keeps that shape whatever the statistics say (a freshly loaded organization with stale
   * statistics otherwise tempts the planner into scanning the organization's patients for every page), and its probe
   * of `patients` (and of `patient_keys`) compares the organization with UNSEEN_ORGANIZATION: given the value, a clinic
   * the statistics did not know was planned for one row, and the probe walked the (organization, source, external id)
   * index through all its patients for each of the page's rows (a 5,000-patient clinic that joined through the
   * ingestion beside the million-patient one: 155-180 ms a page, 0.8 ms with the probe's organization unseen; the
   * million-patient clinic's pages keep their plan and time).
   */
  async listSegment(
    db: TenantSql,
    spec: ListSpec,
    segment: Segment,
    after: ListPosition | null,
    skip: number,
    take: number,
    options: { reverse?: boolean; withKeys?: boolean; prepare?: boolean } = {},
  ): Promise<ProfileListRow[]> {
    const { column, type, nullable } = SORT_COLUMN[spec.sort];
    // See PREPARED_PAGE: only the form without rows to skip, its LIMIT written into the text.
    const prepare = options.prepare === true && skip === 0 && spec.search === null && Number.isSafeInteger(take) && take > 0;
    const keyColumns = options.withKeys ? KEY_COLUMNS : '';
    // `reverse`: the segment in the opposite order (a deep page read from the far end; the caller turns it round).
    const dir = (spec.order === 'asc') !== (options.reverse === true) ? 'ASC' : 'DESC';
    const cmp = spec.order === 'asc' ? '>' : '<';
    const params: unknown[] = [db.organizationId];
    const p = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['m.organization_id = $1'];
    if (spec.status) where.push(`m.status = ${p(spec.status)}`);
    if (spec.search !== null) {
      where.push(`m.sort_name >= ${p(spec.search)}`, `m.sort_name < ${p(prefixUpperBound(spec.search))}`, `m.sort_name LIKE ${p(likePrefix(spec.search))}`);
    }
    if (nullable) where.push(`m.${column} IS ${segment === 'keyed' ? 'NOT NULL' : 'NULL'}`);
    if (after && segment === 'keyed') where.push(`(m.${column}, m.patient_id) ${cmp} (${p(after.key)}::${type}, ${p(after.id)}::uuid)`);
    if (after && segment === 'unkeyed') where.push(`m.patient_id ${cmp} ${p(after.id)}::uuid`);
    // The unkeyed segment (sort key NULL) orders by the key too: constant there, but it lets the planner read the
    // order straight from the (organization_id, key, patient_id) index instead of filtering the primary key.
    const innerOrder = `m.${column} ${dir}, m.patient_id ${dir}`;
    const outerOrder = `page.v ${dir}, page.patient_id ${dir}`;
    const sortKey = segment === 'keyed' ? `m.${column}::text` : 'NULL::text';
    if (skip === 0) {
      // Nothing to skip (first pages, cursor pages): the metrics columns come straight from the sort index's scan
      // (101 heap rows), and only `patients` is looked up per row. Measured on the 1M clinic, a first page by name:
      // 2.9 ms instead of 3.9 ms (median of 40 in one session). With rows to skip, the index-only form below
      // skips them without touching the heap.
      const sql = `WITH page AS MATERIALIZED (
        SELECT m.patient_id, m.${column} AS v, ${sortKey} AS sort_key, ${PAGE_METRIC_COLUMNS}
          FROM patient_metrics m
         WHERE ${where.join(' AND ')}
         ORDER BY ${innerOrder}
         LIMIT ${prepare ? String(take) : p(take)})
      SELECT ${PAGE_LIST_COLUMNS}, page.sort_key, '${segment}' AS segment${keyColumns}
        FROM page
       CROSS JOIN LATERAL (
             SELECT p.id, p.name, ${CONTACT_COLUMNS}, p.registered_at, p.updated_at
               FROM patients p
              WHERE p.id = page.patient_id AND p.organization_id = ${UNSEEN_ORGANIZATION} AND p.deleted_at IS NULL
             OFFSET 0) p${options.withKeys ? keyJoin('p') : ''}
       ORDER BY ${outerOrder}`;
      return prepare ? db.query(sql, params, { prepare: preparedPageName(sql) }) : db.query(sql, params);
    }
    const sql = `WITH page AS (
        SELECT m.patient_id, m.${column} AS v, ${sortKey} AS sort_key
          FROM patient_metrics m
         WHERE ${where.join(' AND ')}
         ORDER BY ${innerOrder}
         LIMIT ${p(take)} OFFSET ${p(skip)})
      SELECT row.*, page.sort_key, '${segment}' AS segment${keyColumns}
        FROM page
       CROSS JOIN LATERAL (
             SELECT ${LIST_COLUMNS}
               FROM patients p
               JOIN patient_metrics m ON m.patient_id = p.id
              WHERE p.id = page.patient_id AND p.organization_id = ${UNSEEN_ORGANIZATION} AND p.deleted_at IS NULL AND m.organization_id = $1
             OFFSET 0) row${options.withKeys ? keyJoin('row') : ''}
       ORDER BY ${outerOrder}`;
    return db.query(sql, params);
  }

  /** Rows of the keyed segment (sort key set) matching the filter: needed only when an OFFSET crosses segments. */
  async countKeyed(db: TenantSql, spec: ListSpec): Promise<number> {
    const { column } = SORT_COLUMN[spec.sort];
    const params: unknown[] = [db.organizationId];
    const where = ['organization_id = $1', `${column} IS NOT NULL`];
    if (spec.status) {
      params.push(spec.status);
      where.push(`status = $${params.length}`);
    }
    if (spec.search !== null) {
      params.push(spec.search, prefixUpperBound(spec.search), likePrefix(spec.search));
      where.push(`sort_name >= $${params.length - 2}`, `sort_name < $${params.length - 1}`, `sort_name LIKE $${params.length}`);
    }
    const rows: { n: string }[] = await db.query(`SELECT count(*)::text AS n FROM patient_metrics WHERE ${where.join(' AND ')}`, params);
    return Number(rows[0].n);
  }

  /**
   * One patient with metrics and the newest `historyLimit` appointments that have started by `now`, in one
   * statement. The medical columns are not even read unless `withMedical`. The patient and the appointments compare
   * the organization with UNSEEN_ORGANIZATION, as the journey does (JOURNEY_SQL); the metrics keep `$1` (a generic
   * plan prunes their partitions when it runs). Prepared in a `prepared` unit (`profile`, `profile-medical`): planned
   * once per connection, as the journey.
   */
  async findProfile(
    db: TenantSql,
    patientId: string,
    options: { historyLimit: number; now: Date; withMedical: boolean },
  ): Promise<ProfileRow | null> {
    const medical = options.withMedical
      ? 'p.conditions_enc, p.allergies_enc, p.medications_enc'
      : 'NULL::text AS conditions_enc, NULL::text AS allergies_enc, NULL::text AS medications_enc';
    const rows: ProfileRow[] = await db.query(
      `SELECT p.id, p.name, p.phone_enc, p.email_enc, p.date_of_birth_enc, p.address_enc, ${medical},
              p.preferred_channel, p.marketing_consent, p.appointment_reminders, p.registered_at, p.updated_at,
              m.ltv_cents, m.total_sessions, m.avg_session_value_cents, m.last_appointment_at, m.next_appointment_at,
              m.risk_score, m.risk_level, m.risk_factors, m.computed_at, m.updated_at AS metrics_updated_at,
              (SELECT coalesce(json_agg(json_build_object('id', a.id, 'starts_at', a.starts_at, 'type', a.type, 'status', a.status,
                                                         'value_cents', a.value_cents, 'notes_enc', a.notes_enc)
                                        ORDER BY a.starts_at DESC, a.id DESC), '[]'::json)
                 FROM (SELECT a.id, a.starts_at, a.type, a.status, a.value_cents, a.notes_enc
                         FROM appointments a
                        WHERE a.organization_id = ${UNSEEN_ORGANIZATION} AND a.patient_id = p.id AND a.starts_at <= $3
                        ORDER BY a.starts_at DESC, a.id DESC
                        LIMIT $4) a) AS history
         FROM patients p
         LEFT JOIN patient_metrics m ON m.patient_id = p.id AND m.organization_id = $1
        WHERE p.organization_id = ${UNSEEN_ORGANIZATION} AND p.id = $2 AND p.deleted_at IS NULL`,
      [db.organizationId, patientId, options.now, options.historyLimit],
      { prepare: options.withMedical ? 'profile-medical' : 'profile' },
    );
    return rows[0] ?? null;
  }
}
