import { Client, type ClientConfig } from 'pg';
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
  rebind(organizationId: string): Promise<BatchTenantConnection> {
    const id = tenantId(organizationId);
    this.retired = true;
    return BatchTenantConnection.bind(this.client, id);
  }

  /** The client, unless this handle was handed to another organization (its statements would run as that one). */
  private get live(): Client {
    if (this.retired) throw new Error('This connection was rebound to another organization');
    return this.client;
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.live.query(sql, params as unknown[])).rows as T[];
  }

  async queryArrays(sql: string, params: readonly unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
    const result = await this.live.query<unknown[]>({ text: sql, values: params as unknown[], rowMode: 'array' });
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  copyIn(sql: string, text: string | readonly string[]): Promise<void> {
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

  async transaction<T>(work: () => Promise<T>, options: { local?: readonly string[] } = {}): Promise<T> {
    // The transaction's settings (constant text of the caller's) with the BEGIN: one round trip.
    await this.live.query(['BEGIN', ...(options.local ?? []).map((s) => `SET LOCAL ${s}`)].join('; '));
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Closes the connection (a handle already rebound leaves it to its new holder). */
  end(): Promise<void> {
    if (this.retired) return Promise.resolve();
    return this.client.end().catch(() => undefined);
  }
}
