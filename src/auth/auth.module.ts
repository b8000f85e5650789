import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AccessGuard } from 'src/auth/access.guard';
import { ApiKeysController } from 'src/auth/api-keys.controller';
import { ApiKeysService } from 'src/auth/api-keys.service';
import { ApiKeysRepository, AuthRepository } from 'src/auth/auth.repository';
import { IdentityService } from 'src/auth/identity.service';
import { JwtStrategy } from 'src/auth/jwt.strategy';
import { MeController } from 'src/auth/me.controller';
import { MeService } from 'src/auth/me.service';
import { CallerRateLimitGuard, IpRateLimitGuard } from 'src/auth/throttling/rate-limit.guard';
import { RateLimitModule } from 'src/auth/throttling/rate-limit.module';

/**
 * Global guards, in this order: rate limit per client IP (before authentication), the AccessGuard (caller,
 * organization, permission), rate limit per authenticated caller.
 */
@Module({
  imports: [PassportModule, RateLimitModule],
  controllers: [MeController, ApiKeysController],
  providers: [
    AuthRepository,
    ApiKeysRepository,
    MeService,
    ApiKeysService,
    IdentityService,
    JwtStrategy,
    { provide: APP_GUARD, useClass: IpRateLimitGuard },
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_GUARD, useClass: CallerRateLimitGuard },
  ],
  exports: [IdentityService, AuthRepository],
})
export class AuthModule {}
