import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { AuthContext } from 'src/auth/auth-context';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { FileStore } from 'src/file-store/file-store.service';
import type { StoredFileRow } from 'src/file-store/stored-files.repository';
import { monthsBetween } from 'src/privacy/retention/domain/retention-policy';
import type { AuditArchiveListResponse, AuditArchiveResponse } from 'src/privacy/retention/dto/audit-archive.dto';
import { type AuditArchiveRow, RetentionRepository } from 'src/privacy/retention/retention.repository';

const notFound = (): ProblemException =>
  ProblemException.notFound(ProblemCode.AuditArchiveNotFound, 'No audit archive with this id in this organization');

/**
 * The audit archives the retention sweep wrote before retiring audit events (RetentionSweep): the list (from
 * `audit_retirements` and the file store, under the organization's row-level security) and each one's NDJSON,
 * decrypted as it streams out of the encrypted file store. Another organization's archive is not found.
 */
@Injectable()
export class AuditArchivesService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repository: RetentionRepository,
    private readonly files: FileStore,
  ) {}

  async list(auth: AuthContext): Promise<AuditArchiveListResponse> {
    const rows = await this.tenantDb.read(auth.organizationId, (db) => this.repository.archives(db));
    return { archives: rows.map(toResponse) };
  }

  async download(auth: AuthContext, archiveId: string): Promise<{ file: StoredFileRow; stream: Readable }> {
    const rows = await this.tenantDb.read(auth.organizationId, (db) => this.repository.archives(db, archiveId));
    if (rows.length === 0) throw notFound();
    const file = await this.files.get(auth.organizationId, archiveId);
    if (!file || file.status !== 'complete') throw notFound();
    return { file, stream: Readable.from(this.files.read(file)) };
  }
}

function toResponse(r: AuditArchiveRow): AuditArchiveResponse {
  return {
    id: r.id,
    first_sequence: Number(r.first_seq),
    last_sequence: Number(r.last_seq),
    event_count: Number(r.events),
    period_start: r.first_occurred_at?.toISOString() ?? null,
    period_end: r.last_occurred_at?.toISOString() ?? null,
    months: r.first_occurred_at && r.last_occurred_at ? monthsBetween(r.first_occurred_at, r.last_occurred_at) : [],
    retired_before: r.before.toISOString(),
    created_at: r.created_at.toISOString(),
    size_bytes: Number(r.bytes),
  };
}
