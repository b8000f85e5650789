import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditAction } from 'src/audit/trail/audit-action';
import { Audited } from 'src/audit/recording/audited.decorator';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { OrganizationPathParams } from 'src/organizations/dto/member.dto';
import { UpdateOrganizationSettingsDto } from 'src/organizations/dto/organization-settings.dto';
import { OrganizationSettingsResponse } from 'src/organizations/dto/organization-settings.response';
import { OrganizationSettingsService } from 'src/organizations/organization-settings.service';

@ApiTags('organization settings')
@Controller('organizations/:organizationId/settings')
export class OrganizationSettingsController {
  constructor(private readonly settings: OrganizationSettingsService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: "The organization's scoring overrides, and the scoring settings in effect" })
  get(@Auth() auth: AuthContext, @Param() _p: OrganizationPathParams): Promise<OrganizationSettingsResponse> {
    return this.settings.get(auth);
  }

  @Put()
  @Authorized(Permission.OrgManage)
  @Audited({ action: AuditAction.Update, resource: 'organization_settings' })
  @ApiOperation({ summary: "Replace the organization's scoring overrides (400 naming each bad key, nothing stored)" })
  update(@Auth() auth: AuthContext, @Param() _p: OrganizationPathParams, @Body() dto: UpdateOrganizationSettingsDto): Promise<OrganizationSettingsResponse> {
    return this.settings.update(auth, dto);
  }
}
