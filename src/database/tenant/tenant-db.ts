import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import type { DependencyBreaker } from 'src/common/resilience/dependency-breaker';
import { ServiceUnavailableError } from 'src/common/resilience/service-unavailable';
import { inlineParams, sqlLiteral } from 'src/database/tenant/sql-literal';
import { tenantBegin, tenantId, tenantStatementPrefix, type TenantSql } from 'src/database/tenant/tenant-sql';

/** An error the server answered with (it has a SQLSTATE): the connection is still usable. */
export const isServerError = (err: unknown): boolean =>
  typeof (err as { code?: unknown } | null)?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code);

/**
 * `work` on a pool connection, which then goes back to the pool; after an error other than one the server answered
 * with, the connection is dropped (the pool opens a new one), in case it broke. With a breaker, the whole of it (the
 * wait for a connection included) goes through it: a database that is away fails it at once with a 503
 * (ServiceUnavailableError) once the breaker is open.
 */
export function onPoolConnection<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, breaker?: DependencyBreaker): Promise<T> {
  return breaker
    ? breaker.run(() => onPoolConnectionUnguarded(pool, work, breaker.options.retryAfterSeconds))
    : onPoolConnectionUnguarded(pool, work);
}

/**
 * A connection from the pool. When every connection is in use and the wait passes the acquire timeout, the database
 * is not at fault (this process is saturated): a 503 that does not count toward the breaker (ServiceUnavailableError
 * is not a database failure to it), so that load never opens the breaker; a connection that cannot be opened does.
 */
export async function acquire(pool: Pool, retryAfterSeconds = 5): Promise<PoolClient> {
  const saturated = pool.totalCount >= (pool.options.max ?? 10);
  try {
    return await pool.connect();
  } catch (err) {
    if (saturated && err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message)) {
      throw new ServiceUnavailableError('database', retryAfterSeconds, 'timeout', { cause: err });
    }
    throw err;
  }
}

async function onPoolConnectionUnguarded<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, retryAfterSeconds?: number): Promise<T> {
  const client = await acquire(pool, retryAfterSeconds);
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

/** A driver error (no SQLSTATE) from the connection itself: a timeout, a lost or closed connection. */
export const isConnectionLevel = (err: unknown): boolean =>
  err instanceof Error &&
  /timeout|terminated|Connection|ECONN|EPIPE|not queryable/i.test(err.message + String((err as { code?: unknown }).code ?? ''));

/**
 * A statement to send with another's message (TenantDb.statements' `leading`): its text, parameters and where its
 * rows go. `prepare`: as TenantSql.query's (a name, constant per text), honoured when the unit is `prepared`.
 */
export interface LeadingStatement {
  text: string;
  params?: readonly unknown[];
  prepare?: string;
  rows(rows: Record<string, unknown>[]): void;
}

/**
 * Most statements `statements({ prepared: true })` keeps prepared on one pooled connection; a text beyond them is
 * sent with its literals, as without `prepared` (so a caller whose texts vary without bound costs each connection
 * at most this many plans).
 */
export const MAX_PREPARED_PER_CONNECTION = 64;

/** The SQL-level prepared statements of each pooled connection (`statements` with `prepared`), by their SQL name. */
const preparedOn = new WeakMap<PoolClient, Set<string>>();

/**
 * The SQL name of a statement `statements` prepares: `"s:<name>"`, a namespace of its own beside the protocol-level
 * names that a transaction's handle gives pg (the same connection may serve both; the server's names are shared).
 */
export const sqlPreparedName = (name: string): string => `"s:${name.replace(/"/g, '""')}"`;

/** `EXECUTE name(literals)`: a prepared statement run by a simple-protocol message, its parameters as literals. */
const executeText = (name: string, params: readonly unknown[] = []): string =>
  params.length === 0 ? `EXECUTE ${name}` : `EXECUTE ${name}(${params.map(sqlLiteral).join(', ')})`;

/**
 * How every request reaches tenant data: a unit of work bound to one organization, on a connection of the app's
 * pool (the runtime role, under row-level security). Services choose the unit (`statements`, `read`, `transaction`)
 * and pass its handle to repositories.
 */
export class TenantDb {
  /**
   * `breaker`: the database's circuit breaker (Database passes it; benchmarks may leave it out).
   * `timeouts.writeStatementTimeoutMs`: the statement_timeout of `transaction` (writes: ingestion, imports, erasure),
   * set local to it; reads keep the pool connection's (DATABASE_STATEMENT_TIMEOUT_MS).
   * `afterWrite`: called on the same connection after a read-write transaction committed (the read replicas'
   * read-your-writes: src/database/replicas/); its failure does not fail the committed work.
   */
  constructor(
    private readonly pool: Pool,
    private readonly breaker?: DependencyBreaker,
    private readonly timeouts: { writeStatementTimeoutMs?: number; batchStatementTimeoutMs?: number; analyticsStatementTimeoutMs?: number } = {},
    private readonly afterWrite?: (organizationId: string, client: PoolClient) => Promise<void>,
  ) {}

  /**
   * Statements that share nothing but the organization: each runs alone, as one simple-protocol message
   * `SELECT set_config('app.organization_id', '<id>', true); <statement with its parameters as literals>`, which
   * PostgreSQL runs as one implicit transaction (the setting ends with it). One round trip per statement where a
   * transaction spends three; measured on a list page at one client, where every round trip wakes a sleeping server
   * process, the socket writes were a third of the app's CPU. Under READ COMMITTED each statement of a transaction
   * takes its own snapshot anyway, so the isolation is the same as `read` without `snapshot`.
   *
   * `leading`: a statement of the same organization sent in the same message as `work`'s first statement, just
   * before it (one round trip for both; each still its own statement, under the same tenant setting); its rows go to
   * `leading.rows`. If `work` sends nothing, it is sent alone afterwards. A failure of either fails both.
   *
   * `prepared`: the statements sent with a `prepare` name (TenantSql.query's option, LeadingStatement's) are
   * prepared on the connection (`PREPARE "s:<name>" AS <text>`, a message of its own before their first run there)
   * and run as `EXECUTE "s:<name>"(<parameters as literals>)` in the one message after the tenant setting, so that the
   * server parses and plans the text once per connection and, once it settles on a generic plan (after five runs, if
   * that plan is estimated no dearer than the custom ones), not per run: a statement naming the organization as a
   * literal is planned on every run otherwise (about half a millisecond for the list's page). Row-level security is
   * unchanged: the prepared plan reads the tenant setting when it runs (a role or schema change makes the server
   * plan it again). Only for texts whose generic plan suits every organization (as TenantSql.query's `prepare`).
   * The `PREPARE` goes alone (one round trip more, once per connection and text) so that the server keeps no run's
   * parameters with the statement (it keeps the text of the message that prepared it) and a failed run cannot leave
   * the connection unsure of what it holds. Without `prepared` the names are ignored, as before.
   */
  async statements<T>(
    organizationId: string,
    work: (db: TenantSql) => Promise<T>,
    options: { leading?: LeadingStatement; prepared?: boolean } = {},
  ): Promise<T> {
    const prefix = tenantStatementPrefix(organizationId);
    let leading = options.leading;
    const prepared = options.prepared === true;
    return onPoolConnection(
      this.pool,
      async (client) => {
        // One message: the setting, the leading statement, `text`. A statement not yet prepared on this connection is
        // prepared first, by a message of its own (once per connection and text).
        const send = async (text: string, params: readonly unknown[] | undefined, prepare: string | undefined, lead?: LeadingStatement) => {
          const statement = async (t: string, p: readonly unknown[] | undefined, name: string | undefined): Promise<string> =>
            prepared && name !== undefined ? this.preparedText(client, t, p, name) : inlineParams(t, p);
          const leadText = lead ? `${await statement(lead.text, lead.params, lead.prepare)}; ` : '';
          const mainText = await statement(text, params, prepare);
          const result = (await client.query(`${prefix}${leadText}${mainText}`)) as unknown as QueryResult | QueryResult[];
          const results = Array.isArray(result) ? result : [result];
          if (lead) lead.rows(results[results.length - 2].rows);
          return results[results.length - 1].rows;
        };
        const result = await work({
          organizationId: tenantId(organizationId),
          query: async <R>(text: string, params?: readonly unknown[], queryOptions?: { prepare?: string }) => {
            // The leading statement goes in this message, before `text`: [set_config, leading, text].
            const lead = leading;
            leading = undefined;
            return (await send(text, params, queryOptions?.prepare, lead)) as R[];
          },
        });
        // `work` sent nothing: the leading statement alone.
        if (leading !== undefined) {
          const lead = leading;
          lead.rows(await send(lead.text, lead.params, lead.prepare));
        }
        return result;
      },
      this.breaker,
    );
  }

  private preparedSet(client: PoolClient): Set<string> {
    let names = preparedOn.get(client);
    if (names === undefined) preparedOn.set(client, (names = new Set()));
    return names;
  }

  /**
   * `EXECUTE` of `text` prepared on this connection under `name`, prepared first (`PREPARE`, a message of its own:
   * the server keeps that message's text as the statement's, so no run's parameters stay with it) when it is not
   * yet. Beyond MAX_PREPARED_PER_CONNECTION, `text` with its literals.
   */
  private async preparedText(client: PoolClient, text: string, params: readonly unknown[] | undefined, name: string): Promise<string> {
    const sqlName = sqlPreparedName(name);
    const names = this.preparedSet(client);
    if (!names.has(sqlName)) {
      if (names.size >= MAX_PREPARED_PER_CONNECTION) return inlineParams(text, params);
      // A PREPARE that fails prepares nothing: the next run tries again.
      await client.query(`PREPARE ${sqlName} AS ${text}`);
      names.add(sqlName);
    }
    return executeText(sqlName, params);
  }

  /**
   * A read-only transaction: BEGIN and the tenant setting in one round trip, the statements, COMMIT. `snapshot`:
   * REPEATABLE READ, so that every statement sees the same data (a count and the page it locates). `analytics`: the
   * analytics class's statement timeout (DATABASE_ANALYTICS_STATEMENT_TIMEOUT_MS) instead of the read class's.
   */
  async read<T>(organizationId: string, work: (db: TenantSql) => Promise<T>, options: { snapshot?: boolean; analytics?: boolean } = {}): Promise<T> {
    const begin = tenantBegin(organizationId, { snapshot: options.snapshot, readOnly: true });
    const ms = options.analytics ? this.timeouts.analyticsStatementTimeoutMs : undefined;
    if (ms === undefined) return this.inTransaction(begin, organizationId, work);
    return this.inTransaction(`${begin}; SET LOCAL statement_timeout = ${Math.floor(ms)}`, organizationId, work, ms + 1_000);
  }

  /**
   * A read-write transaction: everything `work` does commits together, or nothing does. Its statements may run up
   * to the write class's statement timeout (DATABASE_WRITE_STATEMENT_TIMEOUT_MS); `batch` (organization-wide
   * rebuilds run by jobs, which may wait for each other's advisory lock) to the batch class's
   * (DATABASE_BATCH_STATEMENT_TIMEOUT_MS). `local`: settings of the transaction (`SET LOCAL`, e.g.
   * `["jit = off", "work_mem = '64MB'"]`: constant text of the caller's, never input), sent with the BEGIN.
   * `repeatableRead`: REPEATABLE READ (one snapshot for all its statements, which `work` may export with
   * `SELECT pg_export_snapshot()`); `importSnapshot`: REPEATABLE READ on such an exported snapshot, so that two
   * transactions on two connections read the same data (a large organization's rebuild split in two: both halves see
   * the same records and scores).
   */
  async transaction<T>(
    organizationId: string,
    work: (db: TenantSql) => Promise<T>,
    options: { batch?: boolean; local?: readonly string[]; repeatableRead?: boolean; importSnapshot?: string } = {},
  ): Promise<T> {
    const ms = options.batch ? this.timeouts.batchStatementTimeoutMs : this.timeouts.writeStatementTimeoutMs;
    const begin = [
      tenantBegin(organizationId, { repeatableRead: options.repeatableRead, importSnapshot: options.importSnapshot }),
      ...(options.local ?? []).map((s) => `SET LOCAL ${s}`),
    ].join('; ');
    if (ms === undefined) return this.inTransaction(begin, organizationId, work, undefined, true);
    return this.inTransaction(
      `${begin}; SET LOCAL statement_timeout = ${Math.floor(ms)}`,
      organizationId,
      work,
      ms > 0 ? ms + 1_000 : 2_147_483_647,
      true,
    );
  }

  private inTransaction<T>(
    begin: string,
    organizationId: string,
    work: (db: TenantSql) => Promise<T>,
    queryTimeoutMs?: number,
    writes = false,
  ): Promise<T> {
    const run = (): Promise<T> => this.inTransactionUnguarded(begin, organizationId, work, queryTimeoutMs, writes);
    return this.breaker ? this.breaker.run(run) : run();
  }

  private async inTransactionUnguarded<T>(
    begin: string,
    organizationId: string,
    work: (db: TenantSql) => Promise<T>,
    queryTimeoutMs: number | undefined,
    writes: boolean,
  ): Promise<T> {
    const client = await acquire(this.pool, this.breaker?.options.retryAfterSeconds);
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const db: TenantSql = {
        organizationId: tenantId(organizationId),
        query: async <R>(text: string, params?: readonly unknown[], options?: { prepare?: string }) =>
          (
            await client.query({
              text,
              values: params as unknown[],
              ...(options?.prepare ? { name: options.prepare } : {}),
              ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
            } as QueryConfig)
          ).rows as R[],
      };
      const result = await work(db);
      await client.query('COMMIT');
      if (writes && this.afterWrite) await this.afterWrite(organizationId, client).catch(() => undefined);
      return result;
    } catch (err) {
      if (isServerError(err) || !isConnectionLevel(err)) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)); // unusable: the pool drops it
        });
      } else {
        // The server did not answer (a client-side timeout, a lost connection): a ROLLBACK would wait as long again.
        // The connection is dropped instead, which ends the transaction on the server.
        broken = err as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
