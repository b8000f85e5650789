import { Pool, type ClientConfig } from 'pg';
import { parseLsn } from 'src/database/replicas/lsn';

/** How often each replica's replay position and lag are read (and a failed one, once its pause is over, retried). */
export const REPLICA_CHECK_INTERVAL_MS = 1000;

export interface ReplicaSetOptions {
  urls: string[];
  /** A replica whose replay is behind the primary and whose last replayed transaction is older than this is skipped. */
  maxLagSeconds: number;
  /** A replica that failed is skipped this long, then checked again. */
  retrySeconds: number;
  poolSize: number;
  /** The connection settings for a URL (the runtime role, UTC: database.ts's `connectionConfig`). */
  connection: (url: string) => ClientConfig;
  /** The primary's current WAL position (`pg_current_wal_lsn()`), read on the primary's pool. */
  primaryLsn: () => Promise<string>;
  onEvent?: (message: string) => void;
  checkIntervalMs?: number;
}

/** One standby: its pool, and what the last check saw. */
export interface Replica {
  /** host:port/database, for logs (no credentials). */
  readonly name: string;
  readonly pool: Pool;
  /** Checked and answering (false until the first check, and after a failure until a check succeeds again). */
  up: boolean;
  /** Behind the primary by more than the allowed lag. */
  lagging: boolean;
  /** Replayed up to here at the last check. */
  replayLsn: bigint;
  /** Skipped until then (ms since the epoch) after a failure. */
  failedUntil: number;
  /** Reads it served (observability and tests). */
  reads: number;
}

/** Where reads went: per replica and to the primary (observability; the replica test asserts on it). */
export interface ReplicaStats {
  primaryReads: number;
  replicas: { name: string; up: boolean; lagging: boolean; reads: number }[];
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'replica';
  }
}

/**
 * The read replicas (DATABASE_REPLICA_URLS) and the choice of where an organization's read goes: a replica that is
 * up, not lagging, and (after this organization was written) has replayed past the write's WAL position; otherwise
 * the primary. The read-your-writes rule is GitLab's (its database load balancer): the primary's
 * `pg_current_wal_lsn()` after the write, compared with each replica's `pg_last_wal_replay_lsn()`.
 *
 * Every REPLICA_CHECK_INTERVAL_MS a check reads the primary's position, then each replica's replay position and the
 * age of its last replayed transaction: a replica behind the primary whose last replay is older than maxLagSeconds
 * is lagging (an idle primary is not lag: a replica that has replayed everything is never lagging). A replica whose
 * check or read fails is skipped for retrySeconds, then checked again before it serves.
 */
export class ReplicaSet {
  readonly replicas: Replica[];
  /** Organizations written lately: their reads need a replica that has replayed this far. */
  private readonly pending = new Map<string, { lsn: bigint; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private turn = 0;
  private primaryReads = 0;

  constructor(private readonly options: ReplicaSetOptions) {
    this.replicas = options.urls.map((url) => {
      const pool = new Pool({
        ...options.connection(url),
        max: options.poolSize,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: 5000,
      });
      pool.on('error', () => undefined); // an idle connection's failure; the next read or check finds it
      return { name: describe(url), pool, up: false, lagging: false, replayLsn: 0n, failedUntil: 0, reads: 0 };
    });
  }

  /** Starts the periodic check (the first one at once). */
  start(): Promise<void> {
    this.timer ??= setInterval(() => void this.check(), this.options.checkIntervalMs ?? REPLICA_CHECK_INTERVAL_MS);
    this.timer.unref();
    return this.check();
  }

  /** One round of checks (concurrent calls share it). */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async checkAll(): Promise<void> {
    const primary = await this.options.primaryLsn().then(parseLsn, () => null);
    const now = Date.now();
    await Promise.all(this.replicas.filter((r) => r.failedUntil <= now).map((r) => this.checkOne(r, primary)));
    // A write every replica has replayed needs the primary no more; neither does one too old to matter (a replica
    // still short of it is lagging, and skipped for that).
    const keepMs = Math.max(60, this.options.maxLagSeconds * 2) * 1000;
    const usable = this.replicas.filter((r) => r.up);
    const replayed =
      usable.length === this.replicas.length && usable.length > 0
        ? usable.reduce((min, r) => (r.replayLsn < min ? r.replayLsn : min), usable[0].replayLsn)
        : -1n;
    for (const [org, p] of this.pending) if (p.lsn <= replayed || Date.now() - p.at > keepMs) this.pending.delete(org);
  }

  private async checkOne(replica: Replica, primaryLsn: bigint | null): Promise<void> {
    try {
      const { rows } = await replica.pool.query<{ standby: boolean; replay: string | null; replay_age: number | null }>(
        `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay,
                extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS replay_age`,
      );
      const row = rows[0];
      const replay = parseLsn(row.replay);
      if (!row.standby || replay === null)
        throw new Error(row.standby ? 'it has replayed nothing yet' : 'it is not a standby (pg_is_in_recovery() is false)');
      const behind = primaryLsn === null || replay < primaryLsn;
      const lagging = behind && (row.replay_age ?? Infinity) > this.options.maxLagSeconds;
      if (lagging !== replica.lagging)
        this.options.onEvent?.(
          `Read replica ${replica.name} ${lagging ? `is lagging (over ${this.options.maxLagSeconds} s): skipped` : 'caught up: in use again'}`,
        );
      if (!replica.up) this.options.onEvent?.(`Read replica ${replica.name} is up`);
      replica.replayLsn = replay;
      replica.lagging = lagging;
      replica.up = true;
    } catch (err) {
      this.markFailed(replica, err);
    }
  }

  /** Skips the replica for retrySeconds (a read or a check failed on it). */
  markFailed(replica: Replica, err: unknown): void {
    if (replica.up || replica.failedUntil === 0)
      this.options.onEvent?.(`Read replica ${replica.name} failed (${(err as Error).message}): skipped for ${this.options.retrySeconds} s`);
    replica.up = false;
    replica.failedUntil = Date.now() + this.options.retrySeconds * 1000;
  }

  /** The organization was written up to `lsn` (the primary's position after the commit): read-your-writes. */
  noteWrite(organizationId: string, lsnText: string | null): void {
    // An unknown position: the primary until the entry expires.
    const lsn = parseLsn(lsnText) ?? 0xffffffffffffffffn;
    const current = this.pending.get(organizationId);
    if (!current || lsn >= current.lsn) this.pending.set(organizationId, { lsn, at: Date.now() });
  }

  /** Where the organization's next read goes: a replica, or null for the primary. */
  route(organizationId: string): Replica | null {
    const now = Date.now();
    const need = this.pending.get(organizationId)?.lsn ?? -1n;
    const usable = this.replicas.filter((r) => r.up && !r.lagging && r.failedUntil <= now && r.replayLsn >= need);
    if (usable.length === 0) {
      this.primaryReads++;
      return null;
    }
    const replica = usable[this.turn++ % usable.length];
    replica.reads++;
    return replica;
  }

  stats(): ReplicaStats {
    return {
      primaryReads: this.primaryReads,
      replicas: this.replicas.map((r) => ({ name: r.name, up: r.up, lagging: r.lagging, reads: r.reads })),
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.checking?.catch(() => undefined);
    await Promise.all(this.replicas.map((r) => r.pool.end().catch(() => undefined)));
  }
}
