import { Client, type ClientConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { tenantId, type BatchTenantSql } from 'src/database/tenant/tenant-sql';

/**
 * A connection of its own (not the pool's), as the runtime role under row-level security, bound for its whole life
 * to one organization: the session's `app.organization_id` is set once when it opens and never changes. For the
 * organization-wide recompute, which holds two of them for minutes. Close it with `end()`.
 */
export class BatchTenantConnection implements BatchTenantSql {
  readonly organizationId: string;

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
    try {
      await client.query(`SELECT set_config('app.organization_id', $1, false)`, [id]);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    // An idle connection the server drops (a restart, a terminated backend) must not crash the process.
    client.on('error', () => undefined);
    return new BatchTenantConnection(client, id);
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.client.query(sql, params as unknown[])).rows as T[];
  }

  async queryArrays(sql: string, params: readonly unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
    const result = await this.client.query<unknown[]>({ text: sql, values: params as unknown[], rowMode: 'array' });
    return { columns: result.fields.map((f) => f.name), rows: result.rows };
  }

  copyIn(sql: string, text: string | readonly string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream = this.client.query(copyFrom(sql));
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

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  end(): Promise<void> {
    return this.client.end().catch(() => undefined);
  }
}
