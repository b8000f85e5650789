import { createHmac } from 'node:crypto';

/** Claims of a development token. `sub` is the user's id (development) or the identity provider's subject. */
export interface DevTokenClaims {
  sub: string;
  email?: string;
  name?: string;
  [claim: string]: unknown;
}

export const DEV_TOKEN_ISSUER = 'patient-journey-dev';

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** `90`, `90s`, `15m`, `1h`, `7d` (a leading `-` gives an already expired token, for tests) → seconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return Math.trunc(value);
  const m = /^(-?\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) throw new Error(`Invalid duration "${value}": expected e.g. 90s, 15m, 1h, 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * Signs an HS256 JWT (development and tests; production accepts only the identity provider's RS256/ES256 tokens).
 * Expiry is wall-clock time, like the verification in the JwtStrategy.
 */
export function signDevToken(secret: string, claims: DevTokenClaims, options: { expiresIn?: string | number; nowSeconds?: number } = {}): string {
  const iat = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const exp = iat + parseDuration(options.expiresIn ?? '1h');
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iss: DEV_TOKEN_ISSUER, ...claims, iat, exp }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
