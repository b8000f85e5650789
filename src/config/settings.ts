import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The one typed, validated settings object. Every environment variable the service reads is declared here with
 * its type, default and what a valid value looks like; `loadSettings` refuses a bad value with a `SettingsError`
 * naming the variable, which `main.ts` prints as one line before exiting with code 1.
 */
export interface Settings {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** null: start the embedded PostgreSQL under `dataDir/postgres`. */
  databaseUrl: string | null;
  databasePoolSize: number;
  /**
   * Read replicas (streaming standbys of DATABASE_URL): the list, profile, analytics and journey reads go to them
   * (src/database/replicas/). Empty: every read goes to the primary.
   */
  databaseReplicas: {
    urls: string[];
    /** A replica further behind the primary than this (seconds of replay) is skipped until it catches up. */
    maxLagSeconds: number;
    /** A replica that failed is skipped for this long, then tried again. */
    retrySeconds: number;
  };
  /** Seconds to keep retrying the first database connection at start. */
  databaseConnectTimeoutSeconds: number;
  embeddedPostgresPort: number;
  /**
   * As root, where the embedded PostgreSQL's data and binaries go when its `postgres` user cannot enter DATA_DIR
   * (src/database/embedded/cluster-location.ts).
   */
  embeddedPostgresSystemDir: string;
  redisUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: human-readable lines when stdout is a terminal, JSON lines otherwise; or always `json` / `pretty`. */
  logFormat: 'auto' | 'json' | 'pretty';
  corsOrigins: string[];
  demoSeed: boolean;
  bodyLimitBytes: number;
  /** Largest FHIR Bundle `POST /fhir/{organizationId}` takes (FHIR_BUNDLE_LIMIT_BYTES; 413 above). */
  fhirBundleLimitBytes: number;
  /**
   * Largest upload `POST /fhir/{organizationId}/import` takes: an NDJSON body, or the sum of a multipart upload's files
   * (FHIR_IMPORT_LIMIT_BYTES; 413 above, nothing kept). The upload is streamed, never held whole.
   */
  fhirImportLimitBytes: number;
  /** Worker threads that validate and map an NDJSON import's lines (FHIR_IMPORT_WORKERS; 0: in the import's own thread). */
  fhirImportWorkers: number;
  dataDir: string;
  jwt: {
    /** HS256 secret (development and test). */
    secret: string | null;
    jwksUri: string | null;
    issuer: string | null;
    audience: string | null;
  };
  /** Versioned AES-256 keys, newest first: `v2:<base64>,v1:<base64>`. */
  phiEncryptionKeys: string | null;
  phiBlindIndexKey: string | null;
  /** Key of the erasure tombstones' keyed hashes (ERASURE_TOMBSTONE_KEY; src/privacy/erasure/tombstone-hasher.ts). */
  erasureTombstoneKey: string | null;
  /** In-process cache of recently decrypted list values (PhiCipher, src/records/phi/phi-cipher.ts); 0 entries = off. */
  phiDecryptCache: { entries: number; seconds: number };
  /** Unwrapped organization and patient keys kept in process memory (PhiKeyring, src/records/phi/phi-keyring-core.ts). */
  phiKeyCacheEntries: number;
  /** In-process cache of patient list pages (src/patients/patient-list.service.ts); 0 entries = off. */
  patientPageCache: { entries: number; seconds: number };
  /** Per authenticated caller: `limit` requests per `ttlSeconds`; per client IP (checked before authentication): `ipLimit`. */
  rateLimit: { ttlSeconds: number; limit: number; ipLimit: number };
  /** Seconds the guard caches a user's membership / an API key (short, so that revocation applies quickly; 0 = off). */
  authCacheSeconds: number;
  /** Proxies whose X-Forwarded-For is believed (client IPs for rate limits and the audit trail): false, true, a hop count or addresses. */
  trustProxy: boolean | number | string;
  cacheTtlSeconds: number;
  /**
   * Bounded time whatever a dependency does (docs/resilience.md): the database's timeouts per route class, the
   * circuit breakers of the database and Redis, stale answers of cached aggregates, and the shutdown's grace period.
   */
  resilience: {
    /** Longest wait for a pool connection (ms): DATABASE_ACQUIRE_TIMEOUT_MS. */
    acquireTimeoutMs: number;
    /** statement_timeout of reads (list, profile, journey, aggregates, auth look-ups, audit appends) (ms). */
    readStatementTimeoutMs: number;
    /** statement_timeout inside write transactions (ingestion, imports, erasure) (ms). */
    writeStatementTimeoutMs: number;
    /**
     * statement_timeout of the analytics class: the engagement overview's statements over an organization's rollup
     * (seconds at a million patients on a loaded or unvacuumed server; one at a time per window per process) (ms).
     */
    analyticsStatementTimeoutMs: number;
    /** idle_in_transaction_session_timeout of the pool's connections (ms). */
    idleInTransactionTimeoutMs: number;
    /** statement_timeout of jobs' own connections (organization-wide recompute) (ms; 0 = none). */
    batchStatementTimeoutMs: number;
    /** Consecutive database failures that open its circuit breaker. */
    databaseBreakerFailures: number;
    /** While the database's breaker is open, how often it is probed (ms). */
    databaseBreakerHalfOpenMs: number;
    /** Longest wait for one Redis command before it is bypassed (ms). */
    redisTimeoutMs: number;
    /** Consecutive Redis failures that open its breaker (Redis is then bypassed without waiting). */
    redisBreakerFailures: number;
    redisBreakerHalfOpenMs: number;
    /** Retry-After of a 503 (seconds). */
    retryAfterSeconds: number;
    /** How long past its lifetime a cached aggregate (and the guard's identity look-ups) may be served while the database is away (seconds; 0 = never). */
    staleIfErrorSeconds: number;
    /** On SIGTERM, how long in-flight requests and jobs get to finish (seconds). */
    shutdownGraceSeconds: number;
  };
  /** Background jobs (src/jobs): which roles this process plays, and how its worker runs them. */
  jobs: {
    /** `all`: serves HTTP and runs jobs; `api`: HTTP only (jobs go to the queue); `worker`: jobs only. */
    role: 'all' | 'api' | 'worker';
    /** Jobs this process runs at once. */
    concurrency: number;
    /** Attempts of a failing job before it is failed for good (retried with exponential backoff). */
    attempts: number;
    /** How long a job's worker may go silent before another takes the job over (BullMQ's lock; seconds). */
    lockSeconds: number;
    /** Local time of day (HH:MM, each organization's time zone) of the nightly recompute. */
    nightlyAt: string;
    /** How often the scheduler looks for organizations whose nightly time has come (seconds). */
    schedulerIntervalSeconds: number;
    /**
     * How old an organization-wide snapshot (the opportunities, the engagement rollup) may get before a read marks
     * it stale and enqueues its rebuild (hours). They are rebuilt after every organization-wide recompute (nightly),
     * never inside a read.
     */
    snapshotMaxAgeHours: number;
  };
  /** Patient data exports (src/privacy/export): how long a bulk export's files are kept (hours). */
  exports: { fileTtlHours: number };
}

export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(`Invalid setting ${variable}: expected ${expected}${got === undefined ? '' : `, got "${got}"`}`);
    this.name = 'SettingsError';
  }
}

type Env = Record<string, string | undefined>;

/** The checkout (or installed package): DATA_DIR's default is its `.data`, whatever folder the process starts in. */
const APP_ROOT = resolve(__dirname, '..', '..');

/** As root, where the embedded PostgreSQL goes when its `postgres` user cannot enter DATA_DIR. */
export const DEFAULT_EMBEDDED_SYSTEM_DIR = '/var/lib/patient-journey';

function str(env: Env, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new SettingsError(name, `an integer from ${min} to ${max}`, raw);
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === null) return def;
  if (!(allowed as readonly string[]).includes(raw)) throw new SettingsError(name, `one of ${allowed.join(', ')}`, raw);
  return raw as T;
}

function timeOfDay(env: Env, name: string, def: string): string {
  const raw = str(env, name) ?? def;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw);
  if (!m) throw new SettingsError(name, 'a local time of day HH:MM (00:00 to 23:59)', raw);
  return raw;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name);
  if (raw === null) return def;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new SettingsError(name, 'true or false', raw);
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new SettingsError(name, `a URL (${protocols.join(' or ')})`, redactUrl(raw));
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new SettingsError(name, `a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`, redactUrl(raw));
  }
  return raw;
}

/** A comma-separated list of URLs (empty when unset). */
function urlList(env: Env, name: string, protocols: string[]): string[] {
  const raw = str(env, name);
  if (raw === null) return [];
  return raw
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => url({ [name]: u }, name, protocols) as string);
}

/** A URL with its password masked, for messages. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** A secret kept under the data directory, generated on first use (development and test only). */
export function localSecret(dataDir: string, file: string, bytes: number): string {
  const path = join(dataDir, file);
  try {
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    mkdirSync(dataDir, { recursive: true });
    const secret = randomBytes(bytes).toString('base64');
    writeFileSync(path, secret + '\n', { mode: 0o600 });
    return secret;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SettingsError('DATA_DIR', `a folder this process can create and write (${code} on ${path})`, dataDir);
  }
}

function trustProxy(env: Env): boolean | number | string {
  const raw = str(env, 'TRUST_PROXY');
  if (raw === null || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  if (/^[0-9a-fA-F.:/, ]+$/.test(raw)) return raw;
  throw new SettingsError('TRUST_PROXY', 'false, true, a number of proxy hops, or comma-separated proxy addresses/CIDRs', raw);
}

export function loadSettings(env: Env = process.env): Settings {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const dataDir = resolve(str(env, 'DATA_DIR') ?? join(APP_ROOT, '.data'));
  const corsRaw = str(env, 'CORS_ORIGINS');
  const corsOrigins = corsRaw === null ? [] : corsRaw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new SettingsError('CORS_ORIGINS', 'a comma-separated list of origins like https://app.example.com (or *)', origin);
    }
  }
  const settings: Settings = {
    nodeEnv,
    host: str(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 3000, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres', 'postgresql']),
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    databaseConnectTimeoutSeconds: int(env, 'DATABASE_CONNECT_TIMEOUT_SECONDS', 30, 0, 600),
    databaseReplicas: {
      urls: urlList(env, 'DATABASE_REPLICA_URLS', ['postgres', 'postgresql']),
      maxLagSeconds: int(env, 'DATABASE_REPLICA_MAX_LAG_SECONDS', 10, 0, 3_600),
      retrySeconds: int(env, 'DATABASE_REPLICA_RETRY_SECONDS', 30, 1, 3_600),
    },
    embeddedPostgresPort: int(env, 'EMBEDDED_POSTGRES_PORT', 54329, 1024, 65535),
    embeddedPostgresSystemDir: resolve(str(env, 'EMBEDDED_POSTGRES_SYSTEM_DIR') ?? DEFAULT_EMBEDDED_SYSTEM_DIR),
    redisUrl: url(env, 'REDIS_URL', ['redis', 'rediss']),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    corsOrigins,
    demoSeed: bool(env, 'DEMO_SEED', true),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 100 * 1_048_576),
    fhirBundleLimitBytes: int(env, 'FHIR_BUNDLE_LIMIT_BYTES', 50 * 1_048_576, 1024, 1024 * 1_048_576),
    fhirImportLimitBytes: int(env, 'FHIR_IMPORT_LIMIT_BYTES', 8 * 1024 * 1_048_576, 1024, 1024 * 1024 * 1_048_576),
    fhirImportWorkers: int(env, 'FHIR_IMPORT_WORKERS', 1, 0, 16),
    dataDir,
    jwt: {
      secret: str(env, 'JWT_SECRET'),
      jwksUri: url(env, 'JWKS_URI', ['https', 'http']),
      issuer: str(env, 'JWT_ISSUER'),
      audience: str(env, 'JWT_AUDIENCE'),
    },
    phiEncryptionKeys: str(env, 'PHI_ENCRYPTION_KEYS'),
    phiBlindIndexKey: str(env, 'PHI_BLIND_INDEX_KEY'),
    erasureTombstoneKey: str(env, 'ERASURE_TOMBSTONE_KEY'),
    phiKeyCacheEntries: int(env, 'PHI_KEY_CACHE_ENTRIES', 100_000, 0, 10_000_000),
    phiDecryptCache: {
      entries: int(env, 'PHI_DECRYPT_CACHE_ENTRIES', 20_000, 0, 1_000_000),
      seconds: int(env, 'PHI_DECRYPT_CACHE_SECONDS', 300, 1, 3_600),
    },
    patientPageCache: {
      entries: int(env, 'PATIENT_PAGE_CACHE_ENTRIES', 500, 0, 100_000),
      seconds: int(env, 'PATIENT_PAGE_CACHE_SECONDS', 30, 1, 3_600),
    },
    rateLimit: {
      ttlSeconds: int(env, 'RATE_LIMIT_TTL_SECONDS', 60, 1, 86_400),
      limit: int(env, 'RATE_LIMIT_LIMIT', 600, 1, 1_000_000),
      ipLimit: int(env, 'RATE_LIMIT_IP_LIMIT', 1200, 1, 1_000_000),
    },
    authCacheSeconds: int(env, 'AUTH_CACHE_SECONDS', 5, 0, 60),
    trustProxy: trustProxy(env),
    cacheTtlSeconds: int(env, 'CACHE_TTL_SECONDS', 300, 1, 86_400),
    resilience: {
      acquireTimeoutMs: int(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', 2_000, 100, 600_000),
      readStatementTimeoutMs: int(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5_000, 100, 3_600_000),
      writeStatementTimeoutMs: int(env, 'DATABASE_WRITE_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
      analyticsStatementTimeoutMs: int(env, 'DATABASE_ANALYTICS_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
      idleInTransactionTimeoutMs: int(env, 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 10_000, 100, 3_600_000),
      batchStatementTimeoutMs: int(env, 'DATABASE_BATCH_STATEMENT_TIMEOUT_MS', 900_000, 0, 86_400_000),
      databaseBreakerFailures: int(env, 'DATABASE_BREAKER_FAILURES', 3, 1, 1_000),
      databaseBreakerHalfOpenMs: int(env, 'DATABASE_BREAKER_HALF_OPEN_MS', 1_000, 100, 60_000),
      redisTimeoutMs: int(env, 'REDIS_TIMEOUT_MS', 250, 10, 60_000),
      redisBreakerFailures: int(env, 'REDIS_BREAKER_FAILURES', 3, 1, 1_000),
      redisBreakerHalfOpenMs: int(env, 'REDIS_BREAKER_HALF_OPEN_MS', 2_000, 100, 60_000),
      retryAfterSeconds: int(env, 'RETRY_AFTER_SECONDS', 5, 1, 3_600),
      staleIfErrorSeconds: int(env, 'STALE_IF_ERROR_SECONDS', 600, 0, 86_400),
      shutdownGraceSeconds: int(env, 'SHUTDOWN_GRACE_SECONDS', 20, 0, 3_600),
    },
    jobs: {
      role: oneOf(env, 'PROCESS_ROLE', ['all', 'api', 'worker'] as const, 'all'),
      concurrency: int(env, 'JOB_CONCURRENCY', 2, 1, 64),
      attempts: int(env, 'JOB_ATTEMPTS', 3, 1, 20),
      lockSeconds: int(env, 'JOB_LOCK_SECONDS', 30, 5, 3_600),
      nightlyAt: timeOfDay(env, 'NIGHTLY_RECOMPUTE_AT', '03:00'),
      schedulerIntervalSeconds: int(env, 'JOB_SCHEDULER_INTERVAL_SECONDS', 300, 1, 86_400),
      snapshotMaxAgeHours: int(env, 'SNAPSHOT_MAX_AGE_HOURS', 26, 1, 24 * 30),
    },
    exports: { fileTtlHours: int(env, 'EXPORT_FILE_TTL_HOURS', 24, 1, 720) },
  };
  if (settings.jobs.role !== 'all' && settings.redisUrl === null) {
    throw new SettingsError('PROCESS_ROLE', 'all when REDIS_URL is unset (without Redis the jobs run in the process that serves HTTP)', settings.jobs.role);
  }
  if (settings.databaseReplicas.urls.length > 0 && settings.databaseUrl === null) {
    throw new SettingsError('DATABASE_REPLICA_URLS', 'unset when DATABASE_URL is (replicas are standbys of the primary DATABASE_URL names)', '(set)');
  }
  if (production) {
    if (!settings.databaseUrl) throw new SettingsError('DATABASE_URL', 'a PostgreSQL URL in production (the embedded database is for development)', undefined);
  }
  if (production && settings.phiEncryptionKeys === null) {
    throw new SettingsError('PHI_ENCRYPTION_KEYS', 'versioned base64 32-byte keys in production, newest first (v2:<base64>,v1:<base64>)', undefined);
  }
  if (production && settings.phiBlindIndexKey === null) {
    throw new SettingsError('PHI_BLIND_INDEX_KEY', 'a base64 key of at least 32 bytes in production', undefined);
  }
  if (production && settings.erasureTombstoneKey === null) {
    throw new SettingsError('ERASURE_TOMBSTONE_KEY', 'a base64 key of at least 32 bytes in production', undefined);
  }
  if (settings.erasureTombstoneKey !== null && !isBase64Key(settings.erasureTombstoneKey, 32, false)) {
    throw new SettingsError('ERASURE_TOMBSTONE_KEY', 'a base64 key of at least 32 bytes', '(hidden)');
  }
  if (settings.phiEncryptionKeys !== null) checkPhiEncryptionKeys(settings.phiEncryptionKeys);
  if (settings.phiBlindIndexKey !== null && !isBase64Key(settings.phiBlindIndexKey, 32, false)) {
    throw new SettingsError('PHI_BLIND_INDEX_KEY', 'a base64 key of at least 32 bytes', '(hidden)');
  }
  if (settings.jwt.secret !== null && settings.jwt.secret.length < 32) {
    throw new SettingsError('JWT_SECRET', 'at least 32 characters', '(hidden)');
  }
  checkJwtSettings(settings);
  return settings;
}

function isBase64Key(raw: string, bytes: number, exact: boolean): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return false;
  const length = Buffer.from(raw, 'base64').length;
  return exact ? length === bytes : length >= bytes;
}

/** `v<n>:<base64 of 32 bytes>` entries, comma-separated, distinct versions (the key values never reach a message). */
function checkPhiEncryptionKeys(raw: string): void {
  const versions = new Set<string>();
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const match = /^(v\d{1,6}):(.+)$/.exec(entry);
    if (!match || !isBase64Key(match[2], 32, true) || versions.has(match[1])) {
      throw new SettingsError(
        'PHI_ENCRYPTION_KEYS',
        'comma-separated versioned keys, newest first, each v<number>:<base64 of 32 bytes> with distinct versions',
        match ? `(entry ${match[1]} hidden)` : '(hidden)',
      );
    }
    versions.add(match[1]);
  }
}

/** Production verifies the identity provider's tokens (RS256/ES256 via JWKS) and never a shared secret. */
function checkJwtSettings(settings: Settings): void {
  if (settings.nodeEnv === 'production') {
    if (settings.jwt.jwksUri === null) throw new SettingsError('JWKS_URI', "your OpenID Connect issuer's JWKS URL in production", undefined);
    if (settings.jwt.issuer === null) throw new SettingsError('JWT_ISSUER', "your OpenID Connect issuer (the tokens' iss) in production", undefined);
    if (settings.jwt.audience === null) throw new SettingsError('JWT_AUDIENCE', "this API's audience (the tokens' aud) in production", undefined);
    if (settings.jwt.secret !== null) throw new SettingsError('JWT_SECRET', 'unset in production (HS256 development tokens are refused there)', '(hidden)');
    return;
  }
  // Development and test: one HS256 secret kept under DATA_DIR, shared by the app and the token CLI.
  if (settings.jwt.secret === null) settings.jwt.secret = localSecret(settings.dataDir, 'jwt-secret', 48);
}
