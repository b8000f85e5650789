import { loadSettings, SettingsError } from 'src/config/settings';

describe('loadSettings', () => {
  it('applies documented defaults', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({ nodeEnv: 'development', port: 3000, databaseUrl: null, redisUrl: null, demoSeed: true, bodyLimitBytes: 1_048_576, logLevel: 'info', corsOrigins: [] });
  });

  it('parses valid values', () => {
    const s = loadSettings({ PORT: '8080', DATABASE_URL: 'postgres://u:p@db:5432/x', REDIS_URL: 'redis://r:6379', DEMO_SEED: 'false', CORS_ORIGINS: 'http://a.test, https://b.test', LOG_LEVEL: 'debug' });
    expect(s).toMatchObject({ port: 8080, databaseUrl: 'postgres://u:p@db:5432/x', redisUrl: 'redis://r:6379', demoSeed: false, corsOrigins: ['http://a.test', 'https://b.test'], logLevel: 'debug' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'an integer from 0 to 65535'],
    [{ PORT: '70000' }, 'PORT', 'an integer'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'postgres://'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'a URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL', 'redis://'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'one of fatal, error'],
    [{ DEMO_SEED: 'maybe' }, 'DEMO_SEED', 'true or false'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', 'one of development, production, test'],
    [{ CORS_ORIGINS: 'not-an-origin' }, 'CORS_ORIGINS', 'origins'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', 'at least 32 characters'],
  ])('refuses %j naming the variable', (env, variable, expected) => {
    let error: unknown;
    try {
      loadSettings(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).variable).toBe(variable);
    expect((error as SettingsError).message).toContain(`Invalid setting ${variable}`);
    expect((error as SettingsError).message).toContain(expected);
  });

  it('never echoes a database password', () => {
    expect(() => loadSettings({ DATABASE_URL: 'mysql://user:hunter2@host/db' })).toThrow(/\*\*\*/);
    expect(() => loadSettings({ DATABASE_URL: 'mysql://user:hunter2@host/db' })).not.toThrow(/hunter2/);
  });

  it('requires DATABASE_URL in production', () => {
    expect(() => loadSettings({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });
});
