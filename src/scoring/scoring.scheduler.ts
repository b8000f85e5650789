import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { SETTINGS } from 'src/config/config.module';
import type { Settings } from 'src/config/settings';
import { ScoringService } from 'src/scoring/scoring.service';

/**
 * Nightly recompute of every organization at 03:00 UTC, so that time-based statuses (active → dormant → at risk)
 * stay true without new records, and the CLV models are refit. Off under NODE_ENV=test.
 */
@Injectable()
export class ScoringScheduler {
  private readonly logger = new Logger(ScoringScheduler.name);
  private running = false;

  constructor(
    private readonly scoring: ScoringService,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  @Cron('0 3 * * *', { name: 'nightly-recompute', timeZone: 'UTC', disabled: process.env.NODE_ENV === 'test' })
  async nightly(): Promise<void> {
    if (this.settings.nodeEnv === 'test' || this.running) return;
    this.running = true;
    const started = Date.now();
    try {
      const results = await this.scoring.recomputeAll();
      const patients = results.reduce((n, r) => n + r.patients, 0);
      this.logger.log(`Nightly recompute: ${results.length} organizations, ${patients} patients in ${Date.now() - started} ms`);
    } finally {
      this.running = false;
    }
  }
}
