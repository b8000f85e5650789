import { Injectable, Logger } from '@nestjs/common';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { JobService } from 'src/jobs/job.service';
import { JobType } from 'src/jobs/job.types';
import { ORGANIZATION_TABLES, organizationUnseenTables } from 'src/scoring/recompute/maintenance';

/** Patients a process sees written for an organization before it first asks; it asks again each time they double. */
export const STATISTICS_FIRST_CHECK_PATIENTS = 250;

/**
 * What a write's `patientsWritten` did: not asked (`not-due`), asked and nothing named (`known`: under 1,000 rows, or
 * known), the job enqueued (`enqueued`) or one already queued or running (`pending`), the ask failed (`failed`).
 */
export type StatisticsAsk = 'not-due' | 'known' | 'enqueued' | 'pending' | 'failed';

/**
 * A clinic that joins a database holding others through the API's ingestion is unknown to the planner's statistics
 * (autovacuum's ANALYZE waits for a tenth of a shared table to change, which a small clinic beside a large one never
 * makes): every statement naming it is planned for one row. A 5,000-patient clinic beside the million-patient one
 * was read at 9 list pages/s instead of 331 (an index of the organization walked for each of a page's 101 rows), 313
 * journeys/s instead of 1,160 and 529 opportunities' pages/s instead of 825 (docs/scaling.md, "Before its first
 * night"). The list's, journey's and profile's probes now compare the organization unseen by the planner and no
 * longer depend on it; the other statements do. Its organization-wide run analyzes it, but only from its first night.
 *
 * So after each write that touched patients this counts them per organization, and when the count reaches 250, then
 * each time it doubles (500, 1,000, 2,000...: a handful of asks per organization and process, however long it
 * ingests), it asks (organizationUnseenTables: one statement of 2-12 ms on a pooled connection, after the write's
 * commit, not waited for by the request) and, when a table is named, enqueues an `organization-statistics` job (one
 * queued or running per organization) to ANALYZE it. A clinic is known within twice the patients it had when it
 * passed the function's 1,000 rows. Never throws: the statistics only make plans better.
 */
@Injectable()
export class OrganizationStatisticsWatch {
  private readonly logger = new Logger(OrganizationStatisticsWatch.name);
  /** Patients written in this process, and the count at which to ask next, per organization. */
  private readonly written = new Map<string, { patients: number; askAt: number }>();

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly jobs: JobService,
  ) {}

  /**
   * `patients` of the organization were written (and committed). Resolves once the ask, when one was due, is done
   * (callers need not wait: `void`).
   */
  async patientsWritten(organizationId: string, patients: number): Promise<StatisticsAsk> {
    let entry = this.written.get(organizationId);
    if (!entry) this.written.set(organizationId, (entry = { patients: 0, askAt: STATISTICS_FIRST_CHECK_PATIENTS }));
    entry.patients += patients;
    if (entry.patients < entry.askAt) return 'not-due';
    entry.askAt = entry.patients * 2;
    try {
      const unseen = await this.tenantDb.statements(organizationId, (db) => organizationUnseenTables(db, ORGANIZATION_TABLES));
      if (unseen.length === 0) return 'known';
      const run = await this.jobs.enqueue(JobType.OrganizationStatistics, organizationId, {}, { unlessPending: 'unfinished' });
      return run === null ? 'pending' : 'enqueued';
    } catch (err) {
      this.logger.warn(`Statistics of organization ${organizationId} not checked: ${(err as Error).message}`);
      return 'failed';
    }
  }
}
