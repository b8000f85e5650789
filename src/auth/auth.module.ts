import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessGuard } from 'src/auth/access.guard';
import { ApiKeysController } from 'src/auth/api-keys.controller';
import { ApiKeysService } from 'src/auth/api-keys.service';
import { MeController } from 'src/auth/me.controller';
import { MeService } from 'src/auth/me.service';
import { AuthRepository } from 'src/auth/auth.repository';
import { IdentityService } from 'src/auth/identity.service';
import { JwtStrategy } from 'src/auth/jwt.strategy';

@Module({
  imports: [PassportModule],
  controllers: [MeController, ApiKeysController],
  providers: [AuthRepository, MeService, ApiKeysService, IdentityService, JwtStrategy, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [IdentityService, AuthRepository],
})
export class AuthModule {}
