import { createHash } from 'node:crypto';
import { Client, type ClientConfig, type QueryConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { tenantId, type BatchTenantSql } from 'src/database/tenant/tenant-sql';

/**
 * A connection of its own (not the pool's), as the runtime role under row-level security, bound to one organization:
 * the session's `app.organization_id` is set when it opens and never changes while this handle is in use. For the
 * organization-wide recompute, which holds two of them for minutes. Close it with `end()`, or, once its work ended
 * cleanly (no transaction open, no session lock held), hand it to another organization with `rebind` (a worker's
 * nightly runs of many small clinics: src/scoring/recompute/recompute-connections.ts); this handle must not be used
 * after that.
 */
export class BatchTenantConnection implements BatchTenantSql {
  readonly organizationId: string;
  /** Handed to another organization (rebind): this handle refuses every statement from then on. */
  private retired = false;
  /**
   * Whether this handle's parameterized statements are prepared on the connection (`prepareStatements`): a name per
   * statement text, so that the next organization's run on the same connection (rebind) parses none of them again
   * and, after five runs, plans none of them again (PostgreSQL's generic plan).
   */
  private prepare = false;
  /**
   * A transaction that ended with `commitWithNext` and whose COMMIT is not sent yet: it goes in the next BEGIN's
   * message (`COMMIT; BEGIN ...`: one round trip for both), or alone before any other statement, a rebind or a close.
   */
  private pendingCommit = false;

  private constructor(
    private readonly client: Client,
    organizationId: string,
  ) {
    this.organizationId = organizationId;
  }

  /** `config` must switch to the runtime role (Database.batchConnection does). */
  static async open(config: ClientConfig, organizationId: string): Promise<BatchTenantConnection> {
    const id = tenantId(organizationId);
    const client = new Client(config);
    await client.connect();
    // An idle connection the server drops (a restart, a terminated backend) must not crash the process.
    client.on('error', () => undefined);
    return BatchTenantConnection.bind(client, id);
  }

  private static async bind(client: Client, id: string): Promise<BatchTenantConnection> {
    try {
      await client.query(`SELECT set_config('app.organization_id', $1, false)`, [id]);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return new BatchTenantConnection(client, id);
  }

  /**
   * The same server connection bound to another organization (one round trip; the connection's session settings
   * stay). Only after this handle's work ended cleanly: every transaction committed or rolled back, every session
   * advisory lock released. On failure the connection is closed.
   */
  async rebind(organizationId: string): Promise<BatchTenantConnection> {
    const id = tenantId(organizationId);
    this.retired = true;
    if (this.pendingCommit) {
      this.pendingCommit = false;
      try {
        await this.client.query('COMMIT');
      } catch (err) {
        await this.client.end().catch(() => undefined);
        throw err;
      }
    }
    return BatchTenantConnection.bind(this.client, id);
  }

  /** Sends the COMMIT left pending by a `commitWithNext` transaction, if any (before a statement of another kind). */
  private async settle(): Promise<void> {
    if (!this.pendingCommit) return;
    this.pendingCommit = false;
    await this.live.query('COMMIT');
  }

  /** The client, unless this handle was handed to another organization (its statements would run as that one). */
  private get live(): Client {
    if (this.retired) throw new Error('This connection was rebound to another organization');
    return this.client;
  }

  /**
   * From here on (this handle only: a rebound handle starts without), every statement with parameters is prepared on
   * the connection under a name derived from its text, kept for the connection's life (ReusedConnections closes it
   * after its maxUses runs). Only for work whose statements' plans suit every organization that runs them on this
   * connection: a small organization's nightly run (src/scoring/recompute/organization-recompute.ts), never the
   * million-patient case's, whose chunks PostgreSQL must plan for their own values.
   */
  prepareStatements(): void {
    this.prepare = true;
  }

  private config(sql: string, params: readonly unknown[], rowMode?: 'array'): QueryConfig {
    const name = this.prepare && params.length > 0 ? `bt_${createHash('sha1').update(sql).digest('base64url').slice(0, 20)}` : undefined;
    return { text: sql, values: params as unknown[], ...(name ? { name } : {}), ...(rowMode ? { rowMode } : {}) } as QueryConfig;
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.pendingCommit) await this.settle();
    return (await this.live.query(this.config(sql, params))).rows as T[];
  }

  async queryArrays(sql: string, params: readonly unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
    if (this.pendingCommit) await this.settle();
    const result = await this.live.query<unknown[]>(this.config(sql, params, 'array'));
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  async copyIn(sql: string, text: string | readonly (string | Buffer)[]): Promise<void> {
    if (this.pendingCommit) await this.settle();
    return new Promise<void>((resolve, reject) => {
      const stream = this.live.query(copyFrom(sql));
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      if (typeof text === 'string') {
        stream.end(text);
        return;
      }
      for (const piece of text) stream.write(piece);
      stream.end();
    });
  }

  async transaction<T>(
    work: () => Promise<T>,
    options: { local?: readonly string[]; beforeCommit?: string; afterCommit?: string; commitWithNext?: boolean } = {},
  ): Promise<T> {
    // The transaction's settings (constant text of the caller's) with the BEGIN: one round trip; and the previous
    // transaction's COMMIT before them when it was left pending (commitWithNext).
    const previous = this.pendingCommit ? ['COMMIT'] : [];
    this.pendingCommit = false;
    await this.live.query([...previous, 'BEGIN', ...(options.local ?? []).map((s) => `SET LOCAL ${s}`)].join('; '));
    try {
      const result = await work();
      if (options.commitWithNext && options.beforeCommit === undefined && options.afterCommit === undefined) {
        // Committed with the next BEGIN's message (or alone before the next statement, rebind or close).
        this.pendingCommit = true;
        return result;
      }
      // What the caller sends with the COMMIT, in the same message (one round trip): statements of the transaction
      // before it, a statement after it (its own implicit transaction, run only once the COMMIT succeeded).
      await this.client.query([options.beforeCommit, 'COMMIT', options.afterCommit].filter((x) => x !== undefined).join('; '));
      return result;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Closes the connection (a handle already rebound leaves it to its new holder). */
  async end(): Promise<void> {
    if (this.retired) return;
    // A pending COMMIT is sent first: closing would roll that transaction back.
    await this.settle().catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
