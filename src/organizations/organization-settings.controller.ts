import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { UpdateOrganizationSettingsDto } from 'src/organizations/dto/organization-settings.dto';
import { OrganizationSettingsResponse } from 'src/organizations/dto/organization-settings.response';
import { ORGANIZATION_SETTINGS_EXAMPLE } from 'src/organizations/dto/organizations.examples';
import { OrganizationSettingsService } from 'src/organizations/organization-settings.service';

@ApiTags('organization-settings')
@Controller('organizations/:organizationId/settings')
export class OrganizationSettingsController {
  constructor(private readonly settings: OrganizationSettingsService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'getOrganizationSettings',
    summary: 'Get the organization settings',
    description: "The organization's scoring overrides as stored, and every scoring setting in effect (the defaults with the overrides applied).",
    response: { description: 'The settings.', type: OrganizationSettingsResponse, example: ORGANIZATION_SETTINGS_EXAMPLE },
  })
  getOrganizationSettings(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<OrganizationSettingsResponse> {
    return this.settings.get(auth);
  }

  // Changes every patient's scores on the next recompute: audited.
  @Put()
  @Authorized(Permission.OrgManage, { audit: { action: AuditAction.Update, resource: 'organization_settings' } })
  @Endpoint({
    operationId: 'replaceOrganizationSettings',
    summary: 'Replace the organization settings',
    description: "Replaces the organization's scoring overrides. A 400 names each bad key (`errors`), and then nothing is stored.",
    response: { description: 'The settings as stored.', type: OrganizationSettingsResponse, example: ORGANIZATION_SETTINGS_EXAMPLE },
  })
  replaceOrganizationSettings(
    @Auth() auth: AuthContext,
    @Param() _p: OrganizationParams,
    @Body() dto: UpdateOrganizationSettingsDto,
  ): Promise<OrganizationSettingsResponse> {
    return this.settings.update(auth, dto);
  }
}
