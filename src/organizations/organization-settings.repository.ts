import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/**
 * `organizations.settings` (jsonb) of the handle's organization. `organizations` carries no row-level security: every
 * query names the id.
 */
@Injectable()
export class OrganizationSettingsRepository {
  async scoring(db: TenantSql): Promise<Record<string, unknown>> {
    const rows = await db.query<{ scoring: Record<string, unknown> | null }>(
      `SELECT settings -> 'scoring' AS scoring FROM organizations WHERE id = $1`,
      [db.organizationId],
    );
    const scoring = rows[0]?.scoring;
    return scoring && typeof scoring === 'object' && !Array.isArray(scoring) ? scoring : {};
  }

  /** Replaces `settings.scoring`, keeping the other keys of `settings`. */
  async setScoring(db: TenantSql, scoring: Record<string, number>): Promise<void> {
    await db.query(
      `UPDATE organizations SET settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('scoring', $2::jsonb), updated_at = now() WHERE id = $1`,
      [db.organizationId, JSON.stringify(scoring)],
    );
  }
}
