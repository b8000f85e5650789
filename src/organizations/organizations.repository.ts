import { Injectable } from '@nestjs/common';
import type { CrossTenantSql } from 'src/database/cross-tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

/** An organization as the features need it. */
export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  /** IANA time zone name. */
  timezone: string;
  /** `organizations.settings` (jsonb): `scoring` holds overrides of the scoring defaults, `recall_interval_days`... */
  settings: Record<string, unknown>;
}

/** The columns of OrganizationRow, as `organizations` names them. */
export const ORGANIZATION_COLUMNS = 'id, slug, name, timezone, settings';

/**
 * The one place that looks organizations up. `organizations` carries no row-level security (the auth layer reads
 * it before any organization is known): finding one by slug and listing them all go through the cross-tenant
 * escape hatch; an organization reading its own row does so on its tenant handle.
 */
@Injectable()
export class OrganizationsRepository {
  /** The organization of a tenant handle (null if it was deleted meanwhile). */
  async own(db: TenantSql): Promise<OrganizationRow | null> {
    const rows = await db.query<OrganizationRow>(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1`, [db.organizationId]);
    return rows[0] ?? null;
  }

  async bySlug(sql: CrossTenantSql, slug: string): Promise<OrganizationRow | null> {
    const rows = await sql.query<OrganizationRow>(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE slug = $1`, [slug]);
    return rows[0] ?? null;
  }

  async byId(sql: CrossTenantSql, id: string): Promise<OrganizationRow | null> {
    const rows = await sql.query<OrganizationRow>(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Every organization (its id, slug and time zone matter here), by slug: the nightly scheduler's fan-out. */
  async all(sql: CrossTenantSql): Promise<OrganizationRow[]> {
    return sql.query<OrganizationRow>(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations ORDER BY slug`);
  }

  /**
   * The organizations with a patient whose consent grant has expired by `at` (the consent-expiry sweep's fan-out): one
   * statement through `consent_reviews_due` (migration 1795567650000), which returns organization ids only.
   */
  async withConsentReviewsDue(sql: CrossTenantSql, at: Date): Promise<string[]> {
    return (await sql.query<{ id: string }>(`SELECT id FROM consent_reviews_due($1) AS id`, [at])).map((r) => r.id);
  }

  /** Every organization's id, by slug: the fan-out of organization-wide jobs. */
  async ids(sql: CrossTenantSql): Promise<string[]> {
    return (await sql.query<{ id: string }>(`SELECT id FROM organizations ORDER BY slug`)).map((r) => r.id);
  }
}
