import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeysService } from 'src/auth/api-keys.service';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { ApiKeyParams, CreateApiKeyDto, OrganizationParams } from 'src/auth/dto/api-key.dto';
import { ApiKeyListResponse, CreatedApiKeyResponse } from 'src/auth/dto/api-key.response';
import { Permission } from 'src/auth/permissions';

@ApiTags('api-keys')
@Controller('organizations/:organizationId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: 'Create an integration API key (the key is in this answer only)' })
  create(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(auth, dto);
  }

  @Get()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: "The organization's API keys (without the keys themselves)" })
  list(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<ApiKeyListResponse> {
    return this.keys.list(auth);
  }

  @Delete(':keyId')
  @Authorized(Permission.OrgManage)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke an API key (it stops working within seconds on every instance)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'No active key with this id in this organization' })
  revoke(@Auth() auth: AuthContext, @Param() p: ApiKeyParams): Promise<void> {
    return this.keys.revoke(auth, p.keyId);
  }
}
