import type { Pool } from 'pg';
import type { DependencyBreaker } from 'src/common/resilience/dependency-breaker';
import { acquire, isConnectionLevel, isServerError, onPoolConnection } from 'src/database/tenant/tenant-db';

/** Statements that belong to no one organization, on the app's pool (the runtime role). */
export interface CrossTenantSql {
  /**
   * `options.prepare`: a name (constant, one per statement text) under which the statement is prepared on each pooled
   * connection the first time it runs there (parsed and planned once per connection, then only bound and executed).
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: { prepare?: string }): Promise<T[]>;
}

/**
 * The one escape hatch from the tenant handles, for work that is not one organization's: the auth layer's look-ups
 * of users, memberships, organizations and API keys (tables without row-level security, read before any
 * organization is known), listing organizations and finding one by slug, and the fan-out of organization-wide jobs.
 * It sets no organization, so on a table under row-level security it sees nothing (the policies fail closed):
 * tenant data is only reachable through TenantDb.
 */
export class CrossTenantDb implements CrossTenantSql {
  /** `breaker`: the database's circuit breaker (Database passes it). */
  constructor(
    private readonly pool: Pool,
    private readonly breaker?: DependencyBreaker,
  ) {}

  query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], options?: { prepare?: string }): Promise<T[]> {
    const config = options?.prepare ? { name: options.prepare, text: sql, values: params as unknown[] } : undefined;
    return onPoolConnection(
      this.pool,
      async (client) => (config ? await client.query(config) : await client.query(sql, params as unknown[])).rows as T[],
      this.breaker,
    );
  }

  /** `work`'s statements in one transaction. */
  transaction<T>(work: (sql: CrossTenantSql) => Promise<T>): Promise<T> {
    return this.breaker ? this.breaker.run(() => this.transactionUnguarded(work)) : this.transactionUnguarded(work);
  }

  private async transactionUnguarded<T>(work: (sql: CrossTenantSql) => Promise<T>): Promise<T> {
    const client = await acquire(this.pool, this.breaker?.options.retryAfterSeconds);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work({ query: async <R>(text: string, params?: readonly unknown[]) => (await client.query(text, params as unknown[])).rows as R[] });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isServerError(err) || !isConnectionLevel(err)) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
      } else broken = err instanceof Error ? err : new Error(String(err)); // no answer: drop the connection, not wait again
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
