import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authenticated } from 'src/auth/authorized.decorator';
import { MeResponse } from 'src/auth/dto/me.response';
import { MeService } from 'src/auth/me.service';

@ApiTags('auth')
@Controller('me')
export class MeController {
  constructor(private readonly me: MeService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The caller, its organizations, and its role and permissions in each' })
  get(@Auth() auth: AuthContext): Promise<MeResponse> {
    return this.me.get(auth);
  }
}
