import { Injectable, OnModuleInit } from '@nestjs/common';
import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { analyzeTables, ORGANIZATION_TABLES, organizationUnseenTables } from 'src/scoring/recompute/maintenance';

/**
 * `organization-statistics`: ANALYZE of the tables whose planner statistics do not know the organization
 * (organizationUnseenTables over ORGANIZATION_TABLES), as OrganizationStatisticsWatch enqueues it for a clinic that
 * grew through the API's ingestion, or `npm run jobs -- enqueue organization-statistics --org <slug>`. Asked again
 * here (a job queued twice, or after the night, analyzes nothing); the ANALYZE on the owner's connection
 * (src/database/owner-connection.ts), opened only when a table needs it. Idempotent; its result names the tables.
 */
@Injectable()
export class OrganizationStatisticsJob implements JobHandler, OnModuleInit {
  readonly type = JobType.OrganizationStatistics;

  constructor(
    private readonly jobs: JobService,
    private readonly tenantDb: TenantDb,
    private readonly database: Database,
  ) {}

  onModuleInit(): void {
    this.jobs.register(this);
  }

  async run({ organizationId }: JobContext): Promise<Record<string, unknown>> {
    const started = Date.now();
    const unseen = await this.tenantDb.statements(organizationId, (db) => organizationUnseenTables(db, ORGANIZATION_TABLES));
    if (unseen.length > 0) {
      const owner = await this.database.ownerConnection('patient-journey-statistics');
      try {
        await analyzeTables(owner, unseen);
      } finally {
        await owner.end();
      }
    }
    return { analyzed: unseen, total_ms: Date.now() - started };
  }
}
