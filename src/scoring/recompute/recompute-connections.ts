import type { Database } from 'src/database/database';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';

/** Where an organization-wide recompute gets its runtime-role connections, and gives them back. */
export interface RecomputeConnectionSource {
  /** A connection bound to the organization, with the run's session settings (`session`) applied. */
  acquire(organizationId: string): Promise<BatchTenantConnection>;
  /** `clean`: the run ended without error and released its session lock, so the connection may serve another run. */
  release(connection: BatchTenantConnection, clean: boolean): Promise<void>;
}

/** Every run on connections of its own, closed at its end (the CLI, the seed, tests). */
export function freshConnections(database: Database, applicationName: string, session: string): RecomputeConnectionSource {
  return {
    acquire: async (organizationId) => {
      const c = await database.batchConnection(organizationId, applicationName);
      try {
        await c.query(session);
      } catch (err) {
        await c.end();
        throw err;
      }
      return c;
    },
    release: (c) => c.end(),
  };
}

export interface ReusedConnectionsOptions {
  /** Connections kept idle between runs (two per concurrent run). */
  maxIdle: number;
  /**
   * Runs a connection serves before it is closed: each PostgreSQL backend caches every relation it has opened. Small
   * organizations share one metrics partition (about 0.5 MB more cache after 1,000 of them); one with a partition of
   * its own (from 50,000 patients) adds about 57 kB (docs/scaling.md), so 1,000 uses bound that at about 57 MB. A new
   * backend costs about 150 ms of CPU (fork, authentication, its catalog caches, the prepared statements): at 200
   * uses a worker at concurrency 2 opened ten a night per 1,000 clinics, now two.
   */
  maxUses: number;
  /** An idle connection is closed after this long unused (the night is over). */
  idleMs: number;
}

const DEFAULTS: ReusedConnectionsOptions = { maxIdle: 4, maxUses: 1_000, idleMs: 30_000 };

/** Connections to keep idle for a worker running this many organization-wide runs at once: two for each. */
export function reusedConnectionsIdle(concurrency: number): number {
  return 2 * Math.max(1, concurrency);
}

/**
 * A worker's organization-wide runs share their connections: a run of a 200-patient clinic opened three (two batch,
 * one owner) for a few dozen statements, each a new backend process that authenticates and fills its caches. Here a
 * run's connections go back idle when it ends cleanly and the next run rebinds them to its organization
 * (`BatchTenantConnection.rebind`, one round trip); after an error, or `maxUses` runs, they are closed.
 */
export class ReusedConnections implements RecomputeConnectionSource {
  private readonly idle: { connection: BatchTenantConnection; uses: number; since: number }[] = [];
  private readonly uses = new WeakMap<BatchTenantConnection, number>();
  private readonly fresh: RecomputeConnectionSource;
  private readonly options: ReusedConnectionsOptions;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(database: Database, applicationName: string, session: string, options: Partial<ReusedConnectionsOptions> = {}) {
    this.fresh = freshConnections(database, applicationName, session);
    this.options = { ...DEFAULTS, ...options };
  }

  async acquire(organizationId: string): Promise<BatchTenantConnection> {
    for (let entry = this.idle.pop(); entry; entry = this.idle.pop()) {
      const rebound = await entry.connection.rebind(organizationId).catch(() => null);
      if (!rebound) continue; // closed by rebind: try the next, or open one
      this.uses.set(rebound, entry.uses);
      return rebound;
    }
    const c = await this.fresh.acquire(organizationId);
    this.uses.set(c, 0);
    return c;
  }

  async release(connection: BatchTenantConnection, clean: boolean): Promise<void> {
    const uses = (this.uses.get(connection) ?? 0) + 1;
    if (!clean || this.closed || uses >= this.options.maxUses || this.idle.length >= this.options.maxIdle) {
      await connection.end();
      return;
    }
    this.idle.push({ connection, uses, since: Date.now() });
    this.timer ??= setInterval(() => void this.closeIdle(Date.now() - this.options.idleMs), Math.max(1000, this.options.idleMs / 2)).unref();
  }

  /** Closes the connections idle since before `before` (all by default). */
  async closeIdle(before = Infinity): Promise<void> {
    const old = this.idle.filter((e) => e.since < before);
    this.idle.splice(0, this.idle.length, ...this.idle.filter((e) => e.since >= before));
    if (this.idle.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await Promise.all(old.map((e) => e.connection.end()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.closeIdle();
  }
}
