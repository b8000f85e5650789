import { Pool, type ClientConfig } from 'pg';
import { CrossTenantDb } from 'src/database/cross-tenant-db';
import { OwnerConnection } from 'src/database/owner-connection';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { TenantDb } from 'src/database/tenant/tenant-db';

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
}

/** A connection's settings: UTC and ISO dates always, and the switch to the runtime role unless `asOwner`. */
export function connectionConfig(url: string, options: { asOwner?: boolean; applicationName: string }): ClientConfig {
  const startup = ['-c timezone=UTC', '-c datestyle=ISO'];
  if (!options.asOwner) startup.push(`-c role=${RUNTIME_ROLE}`);
  return { connectionString: url, options: startup.join(' '), application_name: options.applicationName };
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

  constructor(readonly options: DatabaseOptions) {
    this.pool = new Pool({
      ...connectionConfig(options.url, { applicationName: options.applicationName ?? 'patient-journey-api' }),
      max: options.poolSize,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('error', (err) => options.onIdleError?.(err));
    this.tenants = new TenantDb(this.pool);
    this.crossTenant = new CrossTenantDb(this.pool);
  }

  /** A connection of its own bound to one organization (runtime role, row-level security): `end()` it when done. */
  batchConnection(organizationId: string, applicationName: string): Promise<BatchTenantConnection> {
    return BatchTenantConnection.open(connectionConfig(this.options.url, { applicationName }), organizationId);
  }

  /** The owner's connection, for the operations listed in owner-connection.ts only: `end()` it when done. */
  ownerConnection(applicationName: string): Promise<OwnerConnection> {
    return OwnerConnection.open(connectionConfig(this.options.url, { asOwner: true, applicationName }));
  }

  /** Answers a ping within `timeoutMs` (readiness). */
  async ping(timeoutMs: number): Promise<void> {
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

  async close(): Promise<void> {
    await this.pool.end();
  }
}
