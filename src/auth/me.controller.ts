import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authenticated } from 'src/auth/authorized.decorator';
import { ME_EXAMPLE } from 'src/auth/dto/auth.examples';
import { MeResponse } from 'src/auth/dto/me.response';
import { MeService } from 'src/auth/me.service';
import { Endpoint } from 'src/common/http/endpoint.decorator';

@ApiTags('me')
@Controller('me')
export class MeController {
  constructor(private readonly me: MeService) {}

  @Get()
  @Authenticated()
  @Endpoint({
    operationId: 'getMe',
    summary: 'Get the caller',
    description:
      'The caller, the organizations it belongs to, and its role and permissions in each: where a client finds the ' +
      '`organizationId` of every other call. Needs a user token (not an API key), and no permission.',
    response: { description: 'The caller.', type: MeResponse, example: ME_EXAMPLE },
  })
  getMe(@Auth() auth: AuthContext): Promise<MeResponse> {
    return this.me.get(auth);
  }
}
