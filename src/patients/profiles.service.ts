import { Injectable } from '@nestjs/common';
import type { AuthContext } from 'src/auth/auth-context';
import { ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/common/database/tenant-db';
import type { ProfilesQueryDto } from 'src/patients/dto/profiles-query.dto';
import type { ProfilesResponse } from 'src/patients/dto/profiles.response';
import { PatientCountsService } from 'src/patients/patient-counts.service';
import { isDeepOffset, PatientsRepository } from 'src/patients/patients.repository';
import { toListItem } from 'src/patients/profile-mappers';
import { CursorState, decodeCursor, DEFAULT_ORDER, encodeCursor, ListSpec, StatusFilter } from 'src/patients/profile-list';
import { PhiCipher } from 'src/records/phi/phi-cipher';
import type { PatientStatus } from 'src/scoring/entities/scoring.enums';

/** The patient list (spec endpoint 1): one page of `patient_metrics` joined to `patients`, with maintained counts. */
@Injectable()
export class ProfilesService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly patients: PatientsRepository,
    private readonly counts: PatientCountsService,
    private readonly cipher: PhiCipher,
  ) {}

  async list(auth: AuthContext, query: ProfilesQueryDto): Promise<ProfilesResponse> {
    const organizationId = auth.organizationId;
    const { spec, skipped, statusFilter } = resolveSpec(organizationId, query);
    const [rows, summary, total] = await Promise.all([
      this.tenantDb.read(organizationId, (m) => this.patients.page(m, spec), { snapshot: isDeepOffset(spec) }),
      this.counts.summary(organizationId),
      this.counts.totalMatching(organizationId, spec.status, spec.search),
    ]);
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
      patients: pageRows.map((r) => toListItem(r, this.cipher)),
      total_count: total,
      has_more: skipped + pageRows.length < total,
      summary: { total_patients: summary.total, active_patients: summary.active, dormant_patients: summary.dormant, at_risk_patients: summary.atRisk },
      next_cursor: next ? encodeCursor(next) : null,
    };
  }

}

/** Query (and cursor) to the list request; a cursor that contradicts the query is a 400 naming `cursor`. */
export function resolveSpec(organizationId: string, query: ProfilesQueryDto): { spec: ListSpec; skipped: number; statusFilter: StatusFilter } {
  const limit = query.limit ?? 100;
  const search = query.search === undefined ? null : query.search.toLowerCase();
  if (query.cursor === undefined) {
    const sort = query.sort ?? 'name';
    const statusFilter = query.status ?? 'all';
    const offset = query.offset ?? 0;
    return {
      spec: { organizationId, sort, order: query.order ?? DEFAULT_ORDER[sort], status: toStatus(statusFilter), search, limit, offset, after: null },
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
    spec: { organizationId, sort: c.sort, order: c.order, status: toStatus(c.status), search: c.search, limit, offset: 0, after: c.after },
    skipped: c.skipped,
    statusFilter: c.status,
  };
}

const toStatus = (f: StatusFilter): PatientStatus | null => (f === 'all' ? null : f);
