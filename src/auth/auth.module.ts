import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessGuard } from 'src/auth/access.guard';
import { AuthRepository } from 'src/auth/auth.repository';
import { IdentityService } from 'src/auth/identity.service';
import { JwtStrategy } from 'src/auth/jwt.strategy';

@Module({
  imports: [PassportModule],
  providers: [AuthRepository, IdentityService, JwtStrategy, { provide: APP_GUARD, useClass: AccessGuard }],
  exports: [IdentityService, AuthRepository],
})
export class AuthModule {}
