import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, SettingsError } from 'src/config/settings';

const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://app@db:5432/pj',
  PHI_ENCRYPTION_KEYS: `v1:${Buffer.alloc(32, 1).toString('base64')}`,
  PHI_BLIND_INDEX_KEY: Buffer.alloc(32, 2).toString('base64'),
  ERASURE_TOMBSTONE_KEY: Buffer.alloc(32, 3).toString('base64'),
  JWKS_URI: 'https://login.example.test/.well-known/jwks.json',
  JWT_ISSUER: 'https://login.example.test/',
  JWT_AUDIENCE: 'patient-journey-api',
};

describe('JWT settings', () => {
  it('accepts a complete production configuration', () => {
    expect(loadSettings(PRODUCTION).jwt).toEqual({ secret: null, jwksUri: PRODUCTION.JWKS_URI, issuer: PRODUCTION.JWT_ISSUER, audience: PRODUCTION.JWT_AUDIENCE });
  });

  it.each(['JWKS_URI', 'JWT_ISSUER', 'JWT_AUDIENCE'] as const)('refuses to start in production without %s', (variable) => {
    const env: Record<string, string | undefined> = { ...PRODUCTION, [variable]: undefined };
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(new RegExp(variable));
  });

  it('refuses a shared HS256 secret in production', () => {
    expect(() => loadSettings({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(40) })).toThrow(/JWT_SECRET/);
  });

  it('generates the development secret once under DATA_DIR and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pj-jwt-'));
    try {
      const first = loadSettings({ DATA_DIR: dir }).jwt.secret;
      expect(first).toHaveLength(64);
      expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(first);
      expect(loadSettings({ DATA_DIR: dir }).jwt.secret).toBe(first);
      expect(loadSettings({ DATA_DIR: dir, JWT_SECRET: 'y'.repeat(32) }).jwt.secret).toBe('y'.repeat(32));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the rate limits and the auth cache lifetime', () => {
    expect(loadSettings({ RATE_LIMIT_LIMIT: '10', RATE_LIMIT_IP_LIMIT: '20', RATE_LIMIT_TTL_SECONDS: '30', AUTH_CACHE_SECONDS: '2' })).toMatchObject({
      rateLimit: { limit: 10, ipLimit: 20, ttlSeconds: 30 },
      authCacheSeconds: 2,
    });
    expect(() => loadSettings({ AUTH_CACHE_SECONDS: '600' })).toThrow(/AUTH_CACHE_SECONDS/);
  });
});
