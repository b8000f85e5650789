import type { Pool, PoolClient, QueryResult } from 'pg';
import { inlineParams } from 'src/database/tenant/sql-literal';
import { tenantBegin, tenantId, tenantStatementPrefix, type TenantSql } from 'src/database/tenant/tenant-sql';

/** An error the server answered with (it has a SQLSTATE): the connection is still usable. */
export const isServerError = (err: unknown): boolean =>
  typeof (err as { code?: unknown } | null)?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code);

/**
 * `work` on a pool connection, which then goes back to the pool; after an error other than one the server answered
 * with, the connection is dropped (the pool opens a new one), in case it broke.
 */
export async function onPoolConnection<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await work(client);
  } catch (err) {
    if (!isServerError(err)) broken = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.release(broken);
  }
}

const rowsOf = <T>(result: QueryResult | QueryResult[]): T[] => (Array.isArray(result) ? result[result.length - 1] : result).rows as T[];

/**
 * How every request reaches tenant data: a unit of work bound to one organization, on a connection of the app's
 * pool (the runtime role, under row-level security). Services choose the unit (`statements`, `read`, `transaction`)
 * and pass its handle to repositories.
 */
export class TenantDb {
  /**
   * `afterWrite`: called on the same connection after a read-write transaction committed (the read replicas'
   * read-your-writes: src/database/replicas/); its failure does not fail the committed work.
   */
  constructor(
    private readonly pool: Pool,
    private readonly afterWrite?: (organizationId: string, client: PoolClient) => Promise<void>,
  ) {}

  /**
   * Statements that share nothing but the organization: each runs alone, as one simple-protocol message
   * `SELECT set_config('app.organization_id', '<id>', true); <statement with its parameters as literals>`, which
   * PostgreSQL runs as one implicit transaction (the setting ends with it). One round trip per statement where a
   * transaction spends three; measured on a list page at one client, where every round trip wakes a sleeping server
   * process, the socket writes were a third of the app's CPU. Under READ COMMITTED each statement of a transaction
   * takes its own snapshot anyway, so the isolation is the same as `read` without `snapshot`.
   */
  async statements<T>(organizationId: string, work: (db: TenantSql) => Promise<T>): Promise<T> {
    const prefix = tenantStatementPrefix(organizationId);
    return onPoolConnection(this.pool, (client) =>
      work({
        organizationId: tenantId(organizationId),
        query: async <R>(text: string, params?: readonly unknown[]) => rowsOf<R>(await client.query(prefix + inlineParams(text, params))),
      }),
    );
  }

  /**
   * A read-only transaction: BEGIN and the tenant setting in one round trip, the statements, COMMIT. `snapshot`:
   * REPEATABLE READ, so that every statement sees the same data (a count and the page it locates).
   */
  async read<T>(organizationId: string, work: (db: TenantSql) => Promise<T>, options: { snapshot?: boolean } = {}): Promise<T> {
    return this.inTransaction(tenantBegin(organizationId, { snapshot: options.snapshot, readOnly: true }), organizationId, work);
  }

  /** A read-write transaction: everything `work` does commits together, or nothing does. */
  async transaction<T>(organizationId: string, work: (db: TenantSql) => Promise<T>): Promise<T> {
    return this.inTransaction(tenantBegin(organizationId), organizationId, work, true);
  }

  private async inTransaction<T>(begin: string, organizationId: string, work: (db: TenantSql) => Promise<T>, writes = false): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const db: TenantSql = {
        organizationId: tenantId(organizationId),
        query: async <R>(text: string, params?: readonly unknown[]) => (await client.query(text, params as unknown[])).rows as R[],
      };
      const result = await work(db);
      await client.query('COMMIT');
      if (writes && this.afterWrite) await this.afterWrite(organizationId, client).catch(() => undefined);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)); // unusable: the pool drops it
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
