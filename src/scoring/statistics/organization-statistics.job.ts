import { Injectable, OnModuleInit } from '@nestjs/common';
import { Database } from 'src/database/database';
import { TenantDb } from 'src/database/tenant/tenant-db';
import type { JobContext, JobHandler } from 'src/jobs/job-handler';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import type { OwnerConnection } from 'src/database/owner-connection';
import { analyzeUnseenTables, ORGANIZATION_TABLES } from 'src/scoring/recompute/maintenance';

/**
 * `organization-statistics`: ANALYZE of the tables whose planner statistics do not know the organization
 * (organizationUnseenTables over ORGANIZATION_TABLES), as OrganizationStatisticsWatch enqueues it for a clinic that
 * grew through the API's ingestion, or `npm run jobs -- enqueue organization-statistics --org <slug>`. Asked again
 * here (a job queued twice, or after the night, analyzes nothing) and analyzed as the nightly run does
 * (analyzeUnseenTables: the owner's connection, src/database/owner-connection.ts, opened only when a table needs it).
 * Idempotent; its result names the tables.
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
    // The ask on a pooled connection given back before the ANALYZE (seconds), which runs on the owner's.
    const tenant = {
      query: <T>(text: string, params?: readonly unknown[]): Promise<T[]> =>
        this.tenantDb.statements(organizationId, (db) => db.query<T>(text, params)),
    };
    const owner: { connection: OwnerConnection | null } = { connection: null };
    try {
      const analyzed = await analyzeUnseenTables(
        tenant,
        async () => (owner.connection ??= await this.database.ownerConnection('patient-journey-statistics')),
        ORGANIZATION_TABLES,
      );
      return { analyzed, total_ms: Date.now() - started };
    } finally {
      await owner.connection?.end();
    }
  }
}
