import { Injectable } from '@nestjs/common';
import { escapeLiteral, type PoolClient, type QueryResult } from 'pg';
import { prepareValue } from 'pg/lib/utils';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** What a read inside `TenantDb.read` gets: parameterized statements, rows back (an EntityManager has the same). */
export interface TenantSql {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query<T = any>(sql: string, params?: unknown[]): Promise<T>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The first round trip of a tenant read: BEGIN (REPEATABLE READ, READ ONLY with `snapshot`) and the transaction-local
 * `app.organization_id` that the row-level security policies read, as one simple-protocol statement pair. The id
 * goes in as a literal, so it must be a UUID (anything else throws). TenantDb.read and the read benchmark's floor
 * send exactly this.
 */
export function tenantBegin(organizationId: string, snapshot = false): string {
  if (!UUID.test(organizationId)) throw new Error('A tenant transaction needs an organization id (a UUID)');
  const begin = snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY' : 'BEGIN';
  return `${begin}; SELECT set_config('app.organization_id', '${organizationId.toLowerCase()}', true)`;
}

/** `value` as an SQL literal: the text pg would send for it as a parameter (prepareValue), quoted (escapeLiteral). */
function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = prepareValue(value);
  if (text === null) return 'NULL';
  return Buffer.isBuffer(text) ? `'\\x${text.toString('hex')}'` : escapeLiteral(text);
}

/**
 * `sql` with each `$n` replaced by parameter n as a literal (sqlLiteral). A literal is untyped like a parameter, so
 * PostgreSQL resolves it from its context the same way (`$2::uuid`, `LIMIT $3`, `= ANY($4::uuid[])`). For statements
 * the application writes itself: a `$n` inside a quoted string of `sql` would be replaced too, so there must be none.
 */
export function inlineParams(sql: string, params: readonly unknown[] = []): string {
  const literals = params.map(sqlLiteral);
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const literal = literals[Number(n) - 1];
    if (literal === undefined) throw new Error(`inlineParams: no value for $${n}`);
    return literal;
  });
}

/**
 * A TenantSql that sends each statement as one simple-protocol message, `SELECT set_config('app.organization_id',
 * '<id>', true); <statement with its parameters as literals>`, which PostgreSQL runs as one implicit transaction:
 * the setting holds for the statement and ends with it. One round trip per statement instead of a transaction's
 * three (BEGIN, the statement, COMMIT). TenantDb.readStatements and the read benchmark's floor use exactly this.
 */
export function tenantStatements(client: Pick<PoolClient, 'query'>, organizationId: string): TenantSql {
  if (!UUID.test(organizationId)) throw new Error('A tenant statement needs an organization id (a UUID)');
  const prefix = `SELECT set_config('app.organization_id', '${organizationId.toLowerCase()}', true); `;
  return {
    query: async (text, params) => {
      const results = (await client.query(prefix + inlineParams(text, params))) as unknown as QueryResult[] | QueryResult;
      return (Array.isArray(results) ? results[results.length - 1] : results).rows as never;
    },
  };
}

/**
 * Single statements on a connection of the TypeORM pool without its query runner (autocommit, as the pool's role):
 * for statements that are not tenant reads, such as the audit trail's batch append, which runs on every audited
 * request. TypeORM's query runner (created, connected and released per statement) was a tenth of the app's CPU on
 * a cached list page.
 */
export function poolStatements(dataSource: DataSource): TenantSql {
  return { query: (text, params) => onPoolConnection(dataSource, async (client) => (await client.query(text, params as unknown[])).rows as never) };
}

type Release = (err?: unknown) => void;

/** An error the server answered with (it has a SQLSTATE): the connection is still usable. */
const isServerError = (err: unknown): boolean => typeof (err as { code?: unknown } | null)?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code);

/** A connection of TypeORM's pool (same runtime role) and its release, without TypeORM's query runner. */
async function poolConnection(dataSource: DataSource): Promise<[PoolClient, Release]> {
  return (await (dataSource.driver as PostgresDriver).obtainMasterConnection()) as [PoolClient, Release];
}

/**
 * `work` on a pool connection of autocommit statements, then the connection goes back to the pool. A failed
 * statement has rolled its own (implicit) transaction back, so after an error the server answered with the
 * connection is reused; after any other error it is dropped (the pool opens a new one), in case it broke.
 */
async function onPoolConnection<T>(dataSource: DataSource, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const [client, release] = await poolConnection(dataSource);
  let broken: unknown;
  try {
    return await work(client);
  } catch (err) {
    if (!isServerError(err)) broken = err;
    throw err;
  } finally {
    release(broken);
  }
}

/**
 * The only way request-path code reaches tenant tables: every call names its organization and sets the
 * transaction-local `app.organization_id` that the row-level security policies read (in its transaction, or with
 * each statement of `readStatements`). A query that forgets its `organization_id` filter still sees only this
 * organization's rows.
 */
@Injectable()
export class TenantDb {
  constructor(private readonly dataSource: DataSource) {}

  /** A transaction through TypeORM: for changes (the manager's UPDATE/DELETE results, entity APIs). */
  run<T>(organizationId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!organizationId) throw new Error('TenantDb.run needs an organization id');
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT set_config('app.organization_id', $1, true)`, [organizationId]);
      return work(manager);
    });
  }

  /**
   * Reads whose statements share nothing but the organization: no SET LOCAL, no snapshot common to two statements.
   * Each statement runs alone, in one round trip (tenantStatements), where `read` spends three on a one-statement
   * transaction. The isolation is the same as `read` without `snapshot`: under READ COMMITTED every statement of a
   * transaction takes its own snapshot anyway. Measured on a list page at one client, where every round trip wakes
   * a sleeping server process: the socket writes were a third of the app's CPU.
   */
  readStatements<T>(organizationId: string, work: (sql: TenantSql) => Promise<T>): Promise<T> {
    return onPoolConnection(this.dataSource, (client) => work(tenantStatements(client, organizationId)));
  }

  /**
   * A transaction for the read endpoints' SELECTs, on a connection of the same pool (same runtime role), without
   * TypeORM's query runner: BEGIN and the organization setting go in one round trip (a simple-protocol statement
   * pair; the id is a checked UUID literal), then the statements, then COMMIT. Measured on the profile endpoint:
   * one round trip and TypeORM's per-statement bookkeeping fewer, about a tenth of the app's CPU per request.
   * `work` must only read: statements return their rows, never TypeORM's `[rows, count]` of a change.
   * `snapshot`: REPEATABLE READ, READ ONLY, so that every statement sees the same data (a count and the page it
   * locates); otherwise READ COMMITTED.
   */
  async read<T>(organizationId: string, work: (sql: TenantSql) => Promise<T>, options: { snapshot?: boolean } = {}): Promise<T> {
    const begin = tenantBegin(organizationId, options.snapshot);
    const [client, release] = await poolConnection(this.dataSource);
    let broken: unknown;
    try {
      await client.query(begin);
      const sql: TenantSql = { query: async (text, params) => (await client.query(text, params)).rows as never };
      const result = await work(sql);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr; // the connection is unusable: the pool drops it
      });
      throw err;
    } finally {
      release(broken);
    }
  }
}
