import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { TrailRepository } from 'src/audit/trail/trail.repository';
import { Clock } from 'src/common/clock/clock';
import { loggableError } from 'src/common/problem/problem.filter';
import { DAY_MS } from 'src/common/time/calendar';

/** Months of partitions kept ready ahead of the current one. */
export const AUDIT_PARTITION_MONTHS_AHEAD = 3;

/**
 * Keeps the monthly partitions of audit_events created ahead: at start and then daily. Missing a run costs
 * nothing but tidiness: the default partition takes any event whose month has no partition yet.
 */
@Injectable()
export class TrailPartitionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditPartitions');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repository: TrailRepository,
    private readonly crossTenant: CrossTenantDb,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensure();
    this.timer = setInterval(() => void this.ensure(), DAY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Creates the partitions this month and the next ones need; returns how many were new (0 on failure). */
  async ensure(): Promise<number> {
    try {
      const created = await this.repository.ensurePartitions(this.crossTenant, this.clock.now(), AUDIT_PARTITION_MONTHS_AHEAD);
      if (created > 0) this.logger.log(`created ${created} audit_events partition(s)`);
      return created;
    } catch (err) {
      this.logger.warn({ err: loggableError(err) }, 'could not create audit_events partitions ahead; events go to the default partition');
      return 0;
    }
  }
}
