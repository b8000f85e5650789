import { Injectable } from '@nestjs/common';
import { verdictJson, verifyOrganizationChain } from 'src/audit/trail/chain-verification';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { AuditEventsResponse, AuditVerifyResponse, toAuditEventResponse } from 'src/audit/dto/audit-events.response';
import { AuditEventsQuery } from 'src/audit/dto/audit-events.query';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ProblemException } from 'src/common/problem/problem';

export const DEFAULT_AUDIT_PAGE = 100;

function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^s(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw ProblemException.invalidField('query', 'cursor', 'must be a next_cursor value returned by this endpoint');
  return Number(m[1]);
}

@Injectable()
export class AuditEventsService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: TrailRepository,
  ) {}

  /** An organization's events, newest first, one keyset page at a time. */
  async events(organizationId: string, q: AuditEventsQuery): Promise<AuditEventsResponse> {
    const limit = q.limit ?? DEFAULT_AUDIT_PAGE;
    const from = q.from ? new Date(q.from) : undefined;
    const to = q.to ? new Date(q.to) : undefined;
    if (from && to && from >= to) throw ProblemException.invalidField('query', 'to', 'must be later than from');
    const filter = {
      patientId: q.patient_id?.toLowerCase(),
      actorId: q.actor_id?.toLowerCase(),
      action: q.action,
      from,
      to,
      beforeSeq: q.cursor ? decodeCursor(q.cursor) : undefined,
    };
    const rows = await this.tenantDb.read(organizationId, (db) => this.repository.list(db, filter, limit + 1));
    const page = rows.slice(0, limit);
    return { events: page.map(toAuditEventResponse), next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].seq) : null };
  }

  async verify(organizationId: string): Promise<AuditVerifyResponse> {
    return verdictJson(await this.tenantDb.read(organizationId, (db) => verifyOrganizationChain(this.repository, db), { snapshot: true }));
  }
}
