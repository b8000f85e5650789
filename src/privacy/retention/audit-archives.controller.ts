import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { AUDIT_ARCHIVE_NOT_FOUND_PROBLEM } from 'src/common/problem/problem-docs';
import { AuditArchivesService } from 'src/privacy/retention/audit-archives.service';
import { AUDIT_ARCHIVE_LIST_EXAMPLE, AuditArchiveListResponse, AuditArchiveParams } from 'src/privacy/retention/dto/audit-archive.dto';

@ApiTags('audit')
@Controller('organizations')
export class AuditArchivesController {
  constructor(private readonly archives: AuditArchivesService) {}

  @Get(':organizationId/audit-archives')
  @Authorized(Permission.AuditRead, { audit: { action: AuditAction.List, resource: 'audit_archive' } })
  @Endpoint({
    operationId: 'listAuditArchives',
    summary: 'List the audit archives',
    description:
      'The archives of retired audit events, oldest first: the retention sweep writes each one (encrypted at rest) before it retires the ' +
      'audit events older than the policy’s `audit_years`. Each with its sequence range, event count, period, months, size and creation time.',
    response: { description: 'The archives.', type: AuditArchiveListResponse, example: AUDIT_ARCHIVE_LIST_EXAMPLE },
  })
  listAuditArchives(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<AuditArchiveListResponse> {
    return this.archives.list(auth);
  }

  @Get(':organizationId/audit-archives/:archiveId')
  @Authorized(Permission.AuditRead, { audit: { action: AuditAction.Export, resource: 'audit_archive' } })
  @ApiProduces('application/x-ndjson')
  @Endpoint({
    operationId: 'getAuditArchive',
    summary: 'Download an audit archive',
    description:
      'One archive as NDJSON, one retired audit event per line (the fields of the audit event list, plus `organization_id`; hashes in hex, ' +
      'so the chain can be verified offline), decrypted as it streams. Every download is recorded in the audit trail.',
    response: { description: 'The archive (application/x-ndjson).', type: String, example: '{"organization_id":"...","seq":1,...}\n' },
    problems: [AUDIT_ARCHIVE_NOT_FOUND_PROBLEM],
  })
  async getAuditArchive(@Auth() auth: AuthContext, @Param() p: AuditArchiveParams): Promise<StreamableFile> {
    const { file, stream } = await this.archives.download(auth, p.archiveId);
    return new StreamableFile(stream, {
      type: 'application/x-ndjson',
      disposition: `attachment; filename="${file.name}"`,
      length: file.bytes,
    });
  }
}
