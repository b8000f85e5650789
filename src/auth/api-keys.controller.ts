import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiKeysService } from 'src/auth/api-keys.service';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { ApiKeyParams, CreateApiKeyDto } from 'src/auth/dto/api-key.dto';
import { ApiKeyListResponse, CreatedApiKeyResponse } from 'src/auth/dto/api-key.response';
import { API_KEYS_EXAMPLE, CREATED_API_KEY_EXAMPLE } from 'src/auth/dto/auth.examples';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';

@ApiTags('api-keys')
@Controller('organizations/:organizationId/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'createApiKey',
    summary: 'Create an API key',
    description:
      'Creates an integration API key with the permissions given (any but `org:manage`). The key is in this answer only: ' +
      'send it as `Authorization: Bearer <key>`.',
    response: { status: 201, description: 'The new key, shown once.', type: CreatedApiKeyResponse, example: CREATED_API_KEY_EXAMPLE },
  })
  createApiKey(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    return this.keys.create(auth, dto);
  }

  @Get()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'listApiKeys',
    summary: 'List API keys',
    description: "The organization's API keys, revoked and expired ones included, without the keys themselves.",
    response: { description: 'The keys.', type: ApiKeyListResponse, example: API_KEYS_EXAMPLE },
  })
  listApiKeys(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<ApiKeyListResponse> {
    return this.keys.list(auth);
  }

  @Delete(':keyId')
  @Authorized(Permission.OrgManage)
  @HttpCode(HttpStatus.NO_CONTENT)
  @Endpoint({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'Revokes the key: it stops working within seconds on every instance.',
    response: { status: 204, description: 'Revoked.' },
    problems: [
      {
        status: 404,
        description: 'No active key with this id in this organization.',
        example: problem(ProblemCode.NotFound, 404, 'No active API key with this id in this organization'),
      },
    ],
  })
  revokeApiKey(@Auth() auth: AuthContext, @Param() p: ApiKeyParams): Promise<void> {
    return this.keys.revoke(auth, p.keyId);
  }
}
