import type { Client, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

/**
 * The little the recompute needs from a connection, so that one implementation serves both paths: the request
 * path (a TypeORM EntityManager inside `TenantDb.run`, as the runtime role under row-level security) and the
 * organization-wide path (a dedicated `pg` client: CLI, nightly job, demo seed).
 */
export interface SqlRunner {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The rows as arrays of values, with the column names in order (pg's `rowMode: 'array'`); absent on runners that cannot. */
  queryArrays?(sql: string, params?: unknown[]): Promise<{ columns: string[]; rows: unknown[][] }>;
  /** `COPY ... FROM STDIN` with `text` (or its pieces, in order) as the whole input; absent on runners that cannot stream. */
  copyIn?(sql: string, text: string | readonly string[]): Promise<void>;
}

export function pgRunner(client: Client | PoolClient): SqlRunner {
  return {
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const result = await client.query(sql, params);
      return result.rows as T[];
    },
    async queryArrays(sql: string, params: unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
      const result = await client.query<unknown[]>({ text: sql, values: params, rowMode: 'array' });
      return { columns: result.fields.map((f) => f.name), rows: result.rows };
    },
    copyIn(sql: string, text: string | readonly string[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom(sql));
        stream.on('error', reject);
        stream.on('finish', () => resolve());
        if (typeof text === 'string') {
          stream.end(text);
          return;
        }
        for (const piece of text) stream.write(piece);
        stream.end();
      });
    },
  };
}

/** Rows of SELECTs only: TypeORM returns `[rows, count]` for UPDATE/DELETE, which callers here never read. */
export function entityManagerRunner(manager: EntityManager): SqlRunner {
  return {
    query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      return manager.query<T[]>(sql, params);
    },
  };
}
