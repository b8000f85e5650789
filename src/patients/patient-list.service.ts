import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { InProcessLru } from 'src/common/cache/in-process-lru';
import { reusableJson } from 'src/common/http/reusable-json';
import { ProblemException } from 'src/common/problem/problem';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';
import type { ProfilesQueryDto } from 'src/patients/dto/profiles-query.dto';
import type { ProfilesResponse } from 'src/patients/dto/profiles.response';
import { CachedCounts, PatientCountsService, summarize } from 'src/patients/patient-counts.service';
import { isDeepOffset, PatientsRepository, prefetchedKeys } from 'src/patients/patients.repository';
import { toListItem } from 'src/patients/profile-mappers';
import { CursorState, decodeCursor, DEFAULT_ORDER, encodeCursor, type ListSpec, StatusFilter } from 'src/patients/profile-list';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { LeadingStatement } from 'src/database/tenant/tenant-db';
import { PhiKeyring } from 'src/records/phi/phi-keyring';
import type { PatientKeys } from 'src/records/phi/phi-keyring-core';
import { PhiReader } from 'src/records/phi/phi-reader';
import type { ProfileListRow } from 'src/patients/patients.repository';
import type { PatientStatus } from 'src/scoring/domain/patient-status';
import type { Freshness } from 'src/common/cache/freshness';
import type { EarlyAuditRecord } from 'src/audit/recording/audit-on-success.interceptor';

/** Pages of more rows than this are never kept by the page cache (a page of 1,000 is 400 KB of JSON). */
export const MAX_CACHED_PAGE_LIMIT = 200;

/**
 * The patient list (spec endpoint 1): one page of `patient_metrics` joined to `patients`, with maintained counts.
 *
 * Recent pages are kept in this process's memory (never Redis), under the organization's counts version: every
 * change the app makes to an organization's patients or scores (ingestion, recomputes) goes through a recompute,
 * whose event invalidates the counts; their next load gets a new version, and every page cached under the old one
 * is never asked for again. With REDIS_URL the counts (and so their version) are shared, so an invalidation in one
 * instance retires the pages of all. Writes this process does not hear of (a recompute run as a CLI elsewhere) show
 * within `PATIENT_PAGE_CACHE_SECONDS` (30). Why: a page costs the database a few milliseconds and the app about 5 ms
 * of CPU (rows, 100 decryptions, JSON), more than the 10 ms a list page may take at p95 on the reference machine even
 * without the framework (the benchmark's floor: p95 13-18 ms); front ends ask for the same first pages again and
 * again. Every answer, cached or not, is authorized first and audited (the interceptors run around this service).
 */
@Injectable()
export class PatientListService {
  private readonly pages: InProcessLru<ProfilesResponse>;

  constructor(
    private readonly tenantDb: ReadTenantDb,
    private readonly patients: PatientsRepository,
    private readonly counts: PatientCountsService,
    private readonly keyring: PhiKeyring,
    @Inject(SETTINGS) settings: Settings,
  ) {
    this.pages = new InProcessLru(settings.patientPageCache.entries, settings.patientPageCache.seconds * 1000);
  }

  /**
   * `freshness`: the request's record (`@RequestFreshness()`), marked when the counts are served stale. `early`: the
   * route's early audit record (`@EarlyAudit()`), called with the page's patients once its rows are read, so that
   * their event is written while the keys are read and the contacts decrypted (a page from the cache is recorded
   * after, as before).
   */
  async list(auth: AuthContext, query: ProfilesQueryDto, freshness?: Freshness, early?: EarlyAuditRecord): Promise<ProfilesResponse> {
    const organizationId = auth.organizationId;
    const resolved = resolveSpec(query);
    // Read once per request: the summary, the total and the page cache's key all come from these counts. When they
    // are not cached (a clinic's first request in this process, or after an invalidation), their statement goes in
    // the message of the page's first statement (one round trip for both): a page cached under the new counts'
    // version cannot exist yet, so the page is needed whatever the cache holds. A deep page (a transaction of its
    // own) runs beside the counts' statement instead, on two connections.
    let started: Promise<PageRead> | undefined;
    const counts = await this.counts.counts(
      organizationId,
      (leading) => {
        const carries = !isDeepOffset(resolved.spec);
        started = this.readPage(organizationId, resolved.spec, carries ? leading : undefined, early);
        started.catch(() => undefined); // awaited below; a failure of the counts' load must not leave it unhandled
        return carries ? started : null;
      },
      freshness,
    );
    const cacheable = this.pages.enabled && resolved.spec.limit <= MAX_CACHED_PAGE_LIMIT;
    if (!cacheable) return this.read(organizationId, resolved, counts, started, freshness, early);
    const key = `${organizationId}\u0000${counts.version}\u0000${resolved.skipped}\u0000${resolved.statusFilter}\u0000${JSON.stringify(resolved.spec)}`;
    const cached = started ? undefined : this.pages.get(key);
    if (cached) return cached;
    const page = reusableJson(await this.read(organizationId, resolved, counts, started, freshness, early));
    this.pages.set(key, page);
    return page;
  }

  /**
   * The page's rows and its patients' keys, on one connection. On a clinic's first request in this process (its
   * organization key not cached here, so none of its patients' keys are), the page's statement reads the stored
   * keys with the rows (one statement instead of three: the page, its patients' keys, the organization's keys);
   * otherwise the keys not cached are read by one statement after the page. `leading`: the counts' statement, sent
   * in the page's first message (not for a deep page: its transaction's own round trips). `early`: told the page's
   * patients as soon as its rows are in (their audit event is then written while the keys are read and the rows
   * decrypted and mapped).
   */
  private readPage(organizationId: string, spec: ListSpec, leading?: LeadingStatement, early?: EarlyAuditRecord): Promise<PageRead> {
    const withKeys = async (db: TenantSql): Promise<PageRead> => {
      const prefetch = !this.keyring.knowsOrganization(organizationId);
      const rows = await this.patients.page(db, spec, { withKeys: prefetch });
      const ids = rows.slice(0, spec.limit).map((r) => r.id);
      early?.(ids);
      return { rows, keys: await this.keyring.keysFor(db, ids, prefetch ? prefetchedKeys(rows) : undefined) };
    };
    return isDeepOffset(spec)
      ? this.tenantDb.read(organizationId, withKeys, { snapshot: true })
      : this.tenantDb.statements(organizationId, withKeys, { leading, prepared: true });
  }

  private async read(
    organizationId: string,
    { spec, skipped, statusFilter }: ResolvedList,
    counts: CachedCounts,
    started?: Promise<PageRead>,
    freshness?: Freshness,
    early?: EarlyAuditRecord,
  ): Promise<ProfilesResponse> {
    const [{ rows, keys }, total] = await Promise.all([
      started ?? this.readPage(organizationId, spec, undefined, early),
      this.counts.totalMatching(organizationId, spec.status, spec.search, counts, freshness),
    ]);
    const summary = summarize(counts.groups);
    const pageRows = rows.slice(0, spec.limit);
    const last = pageRows[pageRows.length - 1];
    const next: CursorState | null =
      rows.length > spec.limit && last
        ? {
            sort: spec.sort,
            order: spec.order,
            status: statusFilter,
            search: spec.search,
            skipped: skipped + pageRows.length,
            after: { segment: last.segment, key: last.sort_key, id: last.id },
          }
        : null;
    return {
      patients: pageRows.map((r) => toListItem(r, new PhiReader(keys.get(r.id), organizationId))),
      total_count: total,
      has_more: skipped + pageRows.length < total,
      summary: { total_patients: summary.total, active_patients: summary.active, dormant_patients: summary.dormant, at_risk_patients: summary.atRisk },
      next_cursor: next ? encodeCursor(next) : null,
    };
  }

}

interface PageRead {
  rows: ProfileListRow[];
  keys: PatientKeys;
}

interface ResolvedList {
  spec: ListSpec;
  skipped: number;
  statusFilter: StatusFilter;
}

/** Query (and cursor) to the list request; a cursor that contradicts the query is a 400 naming `cursor`. */
export function resolveSpec(query: ProfilesQueryDto): ResolvedList {
  const limit = query.limit ?? 100;
  const search = query.search === undefined ? null : query.search.toLowerCase();
  if (query.cursor === undefined) {
    const sort = query.sort ?? 'name';
    const statusFilter = query.status ?? 'all';
    const offset = query.offset ?? 0;
    return {
      spec: { sort, order: query.order ?? DEFAULT_ORDER[sort], status: toStatus(statusFilter), search, limit, offset, after: null },
      skipped: offset,
      statusFilter,
    };
  }
  const c = decodeCursor(query.cursor);
  const conflicts: string[] = [];
  if (query.sort !== undefined && query.sort !== c.sort) conflicts.push('sort');
  if (query.order !== undefined && query.order !== c.order) conflicts.push('order');
  if (query.status !== undefined && query.status !== c.status) conflicts.push('status');
  if (query.search !== undefined && search !== c.search) conflicts.push('search');
  if (query.offset !== undefined && query.offset !== 0) conflicts.push('offset');
  if (conflicts.length > 0) {
    throw ProblemException.invalidField('query', 'cursor', `cursor belongs to another list: drop ${conflicts.join(', ')} or the cursor (a cursor keeps the sort, order, status and search of its first page; offset cannot be combined with it)`);
  }
  return {
    spec: { sort: c.sort, order: c.order, status: toStatus(c.status), search: c.search, limit, offset: 0, after: c.after },
    skipped: c.skipped,
    statusFilter: c.status,
  };
}

const toStatus = (f: StatusFilter): PatientStatus | null => (f === 'all' ? null : f);
