import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** `organizations.settings` (jsonb). `organizations` carries no row-level security: every query names its id. */
@Injectable()
export class OrganizationSettingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async scoring(organizationId: string): Promise<Record<string, unknown>> {
    const rows: { scoring: Record<string, unknown> | null }[] = await this.dataSource.query(
      `SELECT settings -> 'scoring' AS scoring FROM organizations WHERE id = $1`,
      [organizationId],
    );
    const scoring = rows[0]?.scoring;
    return scoring && typeof scoring === 'object' && !Array.isArray(scoring) ? scoring : {};
  }

  /** Replaces `settings.scoring`, keeping the other keys of `settings`. */
  async setScoring(organizationId: string, scoring: Record<string, number>): Promise<void> {
    await this.dataSource.query(
      `UPDATE organizations SET settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('scoring', $2::jsonb), updated_at = now() WHERE id = $1`,
      [organizationId, JSON.stringify(scoring)],
    );
  }
}
