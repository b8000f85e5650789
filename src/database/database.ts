import { Pool, type ClientConfig } from 'pg';
import type { DependencyBreaker } from 'src/common/resilience/dependency-breaker';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { DatabaseNotifications } from 'src/database/notifications';
import { OwnerConnection } from 'src/database/owner-connection';
import {
  CLIENT_TIMEOUT_MARGIN_MS,
  COMMAND_DATABASE_RESILIENCE,
  databaseBreaker,
  probeDatabase,
  type DatabaseResilienceOptions,
} from 'src/database/resilience/database-resilience';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { TenantDb } from 'src/database/tenant/tenant-db';
import { ReadTenantDb } from 'src/database/replicas/read-tenant-db';
import { ReplicaSet } from 'src/database/replicas/replica-set';

/** The channel on which a write's WAL position is told to every process (read-your-writes across instances). */
const WRITES_CHANNEL = 'tenant_writes';

/**
 * The role the application works as. The migrations create it without superuser, table ownership or BYPASSRLS, so
 * that row-level security and the audit trail's append-only grants apply to every query the app makes, even when
 * DATABASE_URL names a superuser (as in development and CI).
 */
export const RUNTIME_ROLE = 'patient_journey_app';

export interface DatabaseOptions {
  /** DATABASE_URL, or the embedded PostgreSQL's. */
  url: string;
  /** Connections in the pool (DATABASE_POOL_SIZE). */
  poolSize: number;
  applicationName?: string;
  /** Errors of idle pool connections (the server restarted, a backend was terminated); they never crash the process. */
  onIdleError?: (err: Error) => void;
  /** Read replicas (DATABASE_REPLICA_URLS and their settings); none: every read goes to the primary. */
  replicas?: { urls: string[]; maxLagSeconds: number; retrySeconds: number; checkIntervalMs?: number };
  /** A replica went up, down, lagging... (one line, no credentials). */
  onReplicaEvent?: (message: string) => void;
  /** Time bounds and the circuit breaker (docs/resilience.md); a command's (COMMAND_DATABASE_RESILIENCE) when absent. */
  resilience?: DatabaseResilienceOptions;
  /** The breaker opened or closed (for the log). */
  onBreakerChange?: (state: 'closed' | 'open' | 'half-open') => void;
}

/**
 * A connection's settings: UTC and ISO dates always, the switch to the runtime role unless `asOwner`, and, when
 * given, the server-side timeouts (statement_timeout, idle_in_transaction_session_timeout) with the client-side
 * bounds that hold when the server does not answer at all (connect, and each query: the statement timeout plus
 * CLIENT_TIMEOUT_MARGIN_MS). TCP keep-alive on, so a silently lost server is noticed on idle connections too.
 */
export function connectionConfig(
  url: string,
  options: {
    asOwner?: boolean;
    applicationName: string;
    statementTimeoutMs?: number;
    idleInTransactionTimeoutMs?: number;
    connectTimeoutMs?: number;
  },
): ClientConfig {
  const startup = ['-c timezone=UTC', '-c datestyle=ISO'];
  if (!options.asOwner) startup.push(`-c role=${RUNTIME_ROLE}`);
  if (options.statementTimeoutMs !== undefined) startup.push(`-c statement_timeout=${options.statementTimeoutMs}`);
  if (options.idleInTransactionTimeoutMs !== undefined)
    startup.push(`-c idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs}`);
  return {
    connectionString: url,
    options: startup.join(' '),
    application_name: options.applicationName,
    keepAlive: true,
    ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    ...(options.statementTimeoutMs ? { query_timeout: options.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS } : {}),
  };
}

/**
 * The process's database: one pool of runtime-role connections, and the ways to use it. TenantDb for one
 * organization's data (requests, jobs); CrossTenantDb for what is no one organization's; a BatchTenantConnection
 * of its own for an organization-wide recompute; an OwnerConnection for the few owner operations named in
 * owner-connection.ts. The app gets it from DatabaseModule; commands make one with `new Database(...)`.
 */
export class Database {
  readonly pool: Pool;
  readonly tenants: TenantDb;
  readonly crossTenant: CrossTenantDb;
  /** The cluster's event channel (LISTEN/NOTIFY): every process on this database hears what another publishes. */
  readonly notifications: DatabaseNotifications;
  /** Reads that a read replica may serve (the list, profiles, analytics, journeys); the primary without replicas. */
  readonly reads: ReadTenantDb;
  /** The read replicas, when DATABASE_REPLICA_URLS names any. */
  readonly replicas: ReplicaSet | null;
  /**
   * The circuit breaker every unit of work of the pool goes through (TenantDb, CrossTenantDb): open, they fail in
   * milliseconds with a 503 instead of each waiting for a timeout; it probes and closes when the database is back.
   */
  readonly breaker: DependencyBreaker;
  readonly resilience: DatabaseResilienceOptions;

  constructor(readonly options: DatabaseOptions) {
    const resilience = (this.resilience = options.resilience ?? COMMAND_DATABASE_RESILIENCE);
    const applicationName = options.applicationName ?? 'patient-journey-api';
    const bounded = (url: string, name: string): ClientConfig =>
      connectionConfig(url, {
        applicationName: name,
        statementTimeoutMs: resilience.readStatementTimeoutMs,
        idleInTransactionTimeoutMs: resilience.idleInTransactionTimeoutMs,
      });
    this.pool = new Pool({
      ...bounded(options.url, applicationName),
      max: options.poolSize,
      idleTimeoutMillis: 30_000,
      // The longest wait for a connection, from the pool or a new one (pg-pool's connectionTimeoutMillis covers both).
      connectionTimeoutMillis: resilience.acquireTimeoutMs,
    });
    this.pool.on('error', (err) => options.onIdleError?.(err));
    this.breaker = databaseBreaker(
      resilience,
      connectionConfig(options.url, { applicationName: `${applicationName}-probe` }),
      options.onBreakerChange,
    );
    const urls = options.replicas?.urls ?? [];
    this.replicas =
      urls.length > 0 && options.replicas
        ? new ReplicaSet({
            ...options.replicas,
            urls,
            poolSize: options.poolSize,
            connection: (url) => bounded(url, `${applicationName}-read`),
            primaryLsn: async () => (await this.crossTenant.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0].lsn,
            onEvent: options.onReplicaEvent,
          })
        : null;
    const replicas = this.replicas;
    const timeouts = {
      writeStatementTimeoutMs: resilience.writeStatementTimeoutMs,
      batchStatementTimeoutMs: resilience.batchStatementTimeoutMs,
      analyticsStatementTimeoutMs: resilience.analyticsStatementTimeoutMs,
    };
    // With replicas, a committed write transaction tells every process (this one at once) its WAL position.
    this.tenants = new TenantDb(
      this.pool,
      this.breaker,
      timeouts,
      replicas
        ? async (organizationId, client) => {
            // Position unknown (the statement failed): the primary for this organization until the note expires.
            const rows = await client
              .query<{ lsn: string }>(
                `SELECT lsn, pg_notify('${WRITES_CHANNEL}', json_build_object('organizationId', $1::text, 'lsn', lsn)::text) FROM (SELECT pg_current_wal_lsn()::text AS lsn) w`,
                [organizationId],
              )
              .then(
                (r) => r.rows,
                () => [],
              );
            replicas.noteWrite(organizationId, rows[0]?.lsn ?? null);
          }
        : undefined,
    );
    this.crossTenant = new CrossTenantDb(this.pool, this.breaker);
    this.notifications = new DatabaseNotifications(connectionConfig(options.url, { applicationName: `${applicationName}-listen` }), (m) =>
      options.onIdleError?.(new Error(m)),
    );
    // A replica's reads: its own pool, no breaker (a failing replica is skipped by the ReplicaSet, not opened on).
    const replicaTenants = new Map(
      (replicas?.replicas ?? []).map((r) => [r.name, new TenantDb(r.pool, undefined, { analyticsStatementTimeoutMs: resilience.analyticsStatementTimeoutMs })] as const),
    );
    this.reads = new ReadTenantDb(this.tenants, replicas, replicaTenants);
  }

  /**
   * Starts watching the replicas (their lag, their failures) and hearing other processes' writes. A no-op without
   * replicas.
   */
  async startReplicas(): Promise<void> {
    const replicas = this.replicas;
    if (!replicas) return;
    await this.notifications.listen(WRITES_CHANNEL, (payload) => {
      try {
        const { organizationId, lsn } = JSON.parse(payload) as { organizationId?: unknown; lsn?: unknown };
        if (typeof organizationId === 'string') replicas.noteWrite(organizationId, typeof lsn === 'string' ? lsn : null);
      } catch {
        // not ours
      }
    });
    await replicas.start();
  }

  /**
   * An organization was written outside TenantDb.transaction (an organization-wide recompute on its batch
   * connections, a bulk import): every process's reads of it go to the primary until a replica has replayed this
   * far. Cheap (one NOTIFY); done whether or not this process has replicas (another may).
   */
  async announceWrite(organizationId: string, then?: { channel: string; payload: unknown }): Promise<void> {
    // `then`: a publication of the caller's sent after it in the same statement (one round trip; delivered in order).
    const rows = await this.crossTenant.query<{ lsn: string }>(
      `SELECT lsn, pg_notify('${WRITES_CHANNEL}', json_build_object('organizationId', $1::text, 'lsn', lsn)::text)${then ? ', pg_notify($2, $3)' : ''}
         FROM (SELECT pg_current_wal_lsn()::text AS lsn) w`,
      then ? [organizationId, then.channel, JSON.stringify(then.payload)] : [organizationId],
    );
    this.replicas?.noteWrite(organizationId, rows[0]?.lsn ?? null);
  }

  /** Publishes `payload` (small JSON, no PHI) on `channel` to every process on this database. */
  publish(channel: string, payload: unknown): Promise<void> {
    return DatabaseNotifications.publish((sql, params) => this.crossTenant.query(sql, params), channel, payload);
  }

  /** A connection of its own bound to one organization (runtime role, row-level security): `end()` it when done. */
  batchConnection(organizationId: string, applicationName: string): Promise<BatchTenantConnection> {
    const r = this.resilience;
    const config = connectionConfig(this.options.url, {
      applicationName,
      connectTimeoutMs: r.acquireTimeoutMs,
      ...(r.batchStatementTimeoutMs > 0 ? { statementTimeoutMs: r.batchStatementTimeoutMs } : {}),
    });
    return BatchTenantConnection.open(config, organizationId);
  }

  /** The owner's connection, for the operations listed in owner-connection.ts only: `end()` it when done. */
  ownerConnection(applicationName: string): Promise<OwnerConnection> {
    return OwnerConnection.open(connectionConfig(this.options.url, { asOwner: true, applicationName }));
  }

  /**
   * Answers a ping within `timeoutMs` (readiness): at once with a failure while the breaker is open; otherwise
   * `SELECT 1` on the pool through the breaker, bounded by `timeoutMs`.
   */
  async ping(timeoutMs: number): Promise<void> {
    if (this.breaker.isOpen) throw new Error('the circuit breaker is open');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.crossTenant.query('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A fresh connection and `SELECT 1` outside the pool and the breaker, within `timeoutMs`. */
  probe(timeoutMs: number): Promise<void> {
    return probeDatabase(
      connectionConfig(this.options.url, { applicationName: `${this.options.applicationName ?? 'patient-journey-api'}-probe` }),
      timeoutMs,
    );
  }

  /** Pool use, for the soak benchmark and the logs. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    await this.replicas?.close();
    this.breaker.close();
    await this.notifications.close();
    await this.pool.end();
  }
}
