import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { Clock } from 'src/common/clock/clock';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ConsentRepository } from 'src/consent/consent.repository';
import { ConsentWriter } from 'src/consent/consent-writer';
import { JobService } from 'src/jobs/job.service';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';
import { ScoringService } from 'src/scoring/scoring.service';

/** Patients re-projected per organization and tick. */
const BATCH = 1000;

/**
 * A grant that expires stops counting at its `expires_at`: the jobs' periodic tick (JobService.onTick) recomputes
 * the grants of the patients whose earliest grant has expired (`patients.consent_review_at`), then their scores and
 * opportunities, like any consent change.
 */
@Injectable()
export class ConsentExpirySweep implements OnModuleInit {
  private readonly logger = new Logger(ConsentExpirySweep.name);

  constructor(
    private readonly tenantDb: TenantDb,
    private readonly crossTenant: CrossTenantDb,
    private readonly organizations: OrganizationsRepository,
    private readonly repository: ConsentRepository,
    private readonly writer: ConsentWriter,
    private readonly clock: Clock,
    @Optional() private readonly scoring?: ScoringService,
    @Optional() private readonly jobs?: JobService,
  ) {}

  onModuleInit(): void {
    this.jobs?.onTick('consent-expiry', () => this.sweep());
  }

  /**
   * Every organization's expired grants, applied; returns how many patients' grants changed. One cross-tenant
   * statement finds the organizations that have any (so a tick costs one statement, not one transaction per
   * organization, however many clinics share the database); each of those is then projected in its own transaction.
   */
  async sweep(now: Date = this.clock.now()): Promise<number> {
    let changed = 0;
    for (const organizationId of await this.organizations.withConsentReviewsDue(this.crossTenant, now)) {
      const ids = await this.tenantDb.transaction(organizationId, async (db) =>
        this.writer.project(db, await this.repository.dueForReview(db, now, BATCH), now),
      );
      changed += ids.length;
      if (ids.length > 0) {
        await this.scoring
          ?.recomputePatients(organizationId, ids)
          .catch((err: unknown) => this.logger.warn(`Recompute after consent expiry failed: ${(err as Error).message}`));
      }
    }
    return changed;
  }
}
