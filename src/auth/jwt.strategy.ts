import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import { SETTINGS } from 'src/config/config.module';
import { Settings } from 'src/config/settings';

/** The verified claims the guard works with. */
export interface JwtClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export function jwtStrategyOptions(settings: Settings): StrategyOptionsWithoutRequest {
  const jwtFromRequest = ExtractJwt.fromAuthHeaderAsBearerToken();
  if (settings.nodeEnv === 'production') {
    const { jwksUri, issuer, audience } = settings.jwt;
    if (!jwksUri || !issuer || !audience) throw new Error('JWKS_URI, JWT_ISSUER and JWT_AUDIENCE are required in production');
    return {
      jwtFromRequest,
      algorithms: ['RS256', 'ES256'],
      issuer,
      audience,
      // Keys cached for 10 minutes; a token with an unknown `kid` makes jwks-rsa refetch (at most 10 times a minute).
      secretOrKeyProvider: passportJwtSecret({ jwksUri, cache: true, cacheMaxEntries: 10, cacheMaxAge: 600_000, rateLimit: true, jwksRequestsPerMinute: 10 }),
    };
  }
  if (!settings.jwt.secret) throw new Error('JWT secret missing (loadSettings generates one in development)');
  // A KeyObject, not the raw string: jsonwebtoken otherwise first tries (and fails) to parse the secret as a public
  // key on every request, about a fifth of a request's CPU under load.
  const key = createSecretKey(Buffer.from(settings.jwt.secret, 'utf8'));
  return { jwtFromRequest, algorithms: ['HS256'], secretOrKey: key as unknown as Buffer };
}

/**
 * passport-jwt: signature, algorithm, `exp`/`nbf` (wall-clock time) and in production `iss`/`aud`. Which user
 * the subject is, and what it may do, is the AccessGuard's business.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(SETTINGS) settings: Settings) {
    super(jwtStrategyOptions(settings));
  }

  validate(payload: Record<string, unknown>): JwtClaims | false {
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) return false;
    return {
      sub: payload.sub,
      email: typeof payload.email === 'string' ? payload.email : undefined,
      email_verified: payload.email_verified === true,
      name: typeof payload.name === 'string' ? payload.name : undefined,
    };
  }
}
