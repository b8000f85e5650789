import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { ProblemException } from 'src/common/problem/problem';
import { UpdateOrganizationSettingsDto } from 'src/organizations/dto/organization-settings.dto';
import { OrganizationSettingsResponse } from 'src/organizations/dto/organization-settings.response';
import { OrganizationSettingsRepository } from 'src/organizations/organization-settings.repository';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { checkScoringOverrides, organizationScoringSettings } from 'src/scoring/organization-settings';

/** An organization's settings (`org:manage`): for now its scoring overrides. */
@Injectable()
export class OrganizationSettingsService {
  constructor(
    private readonly tenantDb: TenantDb,
    private readonly repo: OrganizationSettingsRepository,
  ) {}

  async get(auth: AuthContext): Promise<OrganizationSettingsResponse> {
    return this.response(await this.tenantDb.statements(auth.organizationId, (db) => this.repo.scoring(db)));
  }

  /**
   * Validates the whole object before anything is written: 400 naming every bad key (`scoring.<key>`), nothing
   * stored. Scores use the new settings from the next recompute (the request path reloads an organization's
   * settings within five minutes).
   */
  async update(auth: AuthContext, dto: UpdateOrganizationSettingsDto): Promise<OrganizationSettingsResponse> {
    const { errors } = checkScoringOverrides(dto.scoring);
    if (errors.length > 0) {
      throw ProblemException.badRequest(
        errors.map((e) => `scoring${e.field ? `.${e.field}` : ''}: ${e.message}`).join('; '),
        errors.map((e) => ({ in: 'body' as const, field: e.field ? `scoring.${e.field}` : 'scoring', message: e.message })),
      );
    }
    const scoring = dto.scoring as Record<string, number>;
    await this.tenantDb.statements(auth.organizationId, (db) => this.repo.setScoring(db, scoring));
    return this.response(scoring);
  }

  private response(scoring: Record<string, unknown>): OrganizationSettingsResponse {
    const stored = Object.fromEntries(Object.entries(scoring).filter((e): e is [string, number] => typeof e[1] === 'number'));
    return { scoring: stored, effective_scoring: { ...organizationScoringSettings({ scoring }) } };
  }
}
