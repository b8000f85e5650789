import { isServerError, type LeadingStatement, type TenantDb } from 'src/database/tenant/tenant-db';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import type { ReplicaSet } from 'src/database/replicas/replica-set';

/**
 * SQLSTATEs after which the read is run again on the primary: the replica's connection failed or it is shutting down
 * or starting (08..., 57P0x, 53300: the replica is then skipped for DATABASE_REPLICA_RETRY_SECONDS), or the standby
 * cancelled the statement for a conflict with recovery (40001; the replica stays in use).
 */
const REPLICA_DOWN = /^(08|57P0|53300)/;
const RECOVERY_CONFLICT = '40001';

/** A failure to reach the server or a connection lost (not an error of the statement or of the caller's code). */
function connectionFailure(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT...
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|connection error|Connection ended/i.test(message)
  );
}

/**
 * One organization's reads that may be served by a read replica (the patient list, a profile, the analytics, a
 * journey): the same units of work as TenantDb's `statements` and `read`, sent to a replica when ReplicaSet.route
 * picks one (up, not lagging, past the organization's last write), else to the primary. Without replicas it is the
 * primary's TenantDb. A replica that fails under a read is skipped and the read runs on the primary: the caller
 * never sees a replica's failure. Never for writes, audit appends, or a read inside a write transaction.
 */
export class ReadTenantDb {
  constructor(
    private readonly primary: TenantDb,
    private readonly replicas: ReplicaSet | null,
    private readonly replicaTenants: Map<string, TenantDb>,
  ) {}

  statements<T>(
    organizationId: string,
    work: (db: TenantSql) => Promise<T>,
    options: { leading?: LeadingStatement; prepared?: boolean } = {},
  ): Promise<T> {
    return this.routed(organizationId, (db) => db.statements(organizationId, work, options));
  }

  read<T>(organizationId: string, work: (db: TenantSql) => Promise<T>, options: { snapshot?: boolean; analytics?: boolean } = {}): Promise<T> {
    return this.routed(organizationId, (db) => db.read(organizationId, work, options));
  }

  private async routed<T>(organizationId: string, run: (db: TenantDb) => Promise<T>): Promise<T> {
    const replica = this.replicas?.route(organizationId) ?? null;
    const db = replica ? this.replicaTenants.get(replica.name) : undefined;
    if (!replica || !db) return run(this.primary);
    try {
      return await run(db);
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      const down = isServerError(err) ? REPLICA_DOWN.test(code) : connectionFailure(err);
      if (!down && code !== RECOVERY_CONFLICT) throw err;
      if (down) this.replicas?.markFailed(replica, err);
      return run(this.primary);
    }
  }
}
