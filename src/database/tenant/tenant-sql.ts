/**
 * The one way to reach tenant data: a handle bound to one organization. Every statement it runs does so with the
 * setting `app.organization_id` that the row-level security policies read, so a query that forgets its
 * `organization_id` filter still sees only this organization's rows. Repositories take it as their first argument
 * and read the organization from it, never from an argument of their own.
 */
export interface TenantSql {
  readonly organizationId: string;
  /**
   * One parameterized statement; its rows (for INSERT/UPDATE/DELETE, those of RETURNING, else none). `options.prepare`:
   * a name (constant, one per statement text) under which a transaction's handle prepares the statement on its
   * connection, kept for the connection's life, so that a statement run for many organizations one after the other
   * (the nightly run of small clinics) is parsed once per connection and, once PostgreSQL settles on a generic plan
   * after its first five runs, not planned again. Only for statements whose plan suits every organization that runs
   * them (a small organization's follow-ups: never the million-patient case's). In `TenantDb.statements` with
   * `prepared` (the patient list's reads) the same, as an SQL-level `PREPARE` sent before the statement's first run on
   * the connection (`EXECUTE` after the tenant setting). Ignored elsewhere.
   */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: { prepare?: string }): Promise<T[]>;
}

/** A handle on a connection of its own (the organization-wide recompute): arrays, COPY and its own transactions. */
export interface BatchTenantSql extends TenantSql {
  /** The rows as arrays of values, with the column names in order. */
  queryArrays(sql: string, params?: readonly unknown[]): Promise<{ columns: string[]; rows: unknown[][] }>;
  /** `COPY ... FROM STDIN` with `text` (or its pieces, in order) as the whole input. Not into a table under RLS. */
  copyIn(sql: string, text: string | readonly (string | Buffer)[]): Promise<void>;
  /**
   * `work` between BEGIN and COMMIT (ROLLBACK when it throws) on this connection. `local`: the transaction's
   * settings (`SET LOCAL`; constant text, never input), sent with the BEGIN. `beforeCommit` and `afterCommit`:
   * statements without parameters (constant text, or literals the caller quoted) sent in the COMMIT's message, one
   * round trip for all: the first inside the transaction, the second after it committed (not run if it did not).
   * `commitWithNext` (without those two): the COMMIT is not sent at the end of `work` but with the next transaction's
   * BEGIN, in its message (`COMMIT; BEGIN ...`, one round trip fewer), or alone before this handle's next statement
   * of another kind, its rebind or its close. Only for a transaction whose commit may wait for the next thing the
   * connection does (its snapshot and locks are held until then) and cannot fail for want of it (a read, or writes
   * no one waits on).
   */
  transaction<T>(
    work: () => Promise<T>,
    options?: { local?: readonly string[]; beforeCommit?: string; afterCommit?: string; commitWithNext?: boolean },
  ): Promise<T>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The organization id as the tenant setting's literal: a UUID, lower-cased; anything else throws. */
export function tenantId(organizationId: string): string {
  if (typeof organizationId !== 'string' || !UUID.test(organizationId)) throw new Error('A tenant handle needs an organization id (a UUID)');
  return organizationId.toLowerCase();
}

/** What `pg_export_snapshot()` returns (e.g. `00000003-0000001B-1`): hexadecimal groups and dashes, nothing else. */
const SNAPSHOT_ID = /^[0-9A-F]+(-[0-9A-F]+)+$/i;

/**
 * The first round trip of a tenant transaction: BEGIN (REPEATABLE READ, READ ONLY with `snapshot`; READ ONLY with
 * `readOnly`; REPEATABLE READ with `repeatableRead`) and the transaction-local tenant setting, as one simple-protocol
 * statement pair. `importSnapshot`: REPEATABLE READ on the snapshot another transaction exported
 * (`pg_export_snapshot()`, still open), set before the tenant setting's SELECT as PostgreSQL requires (a malformed id
 * throws). TenantDb and the read benchmark's floor send exactly this.
 */
export function tenantBegin(
  organizationId: string,
  options: { snapshot?: boolean; readOnly?: boolean; repeatableRead?: boolean; importSnapshot?: string } = {},
): string {
  const id = tenantId(organizationId);
  if (options.importSnapshot !== undefined && !SNAPSHOT_ID.test(options.importSnapshot)) throw new Error('Not a snapshot id');
  const begin = options.snapshot
    ? 'BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY'
    : options.readOnly
      ? 'BEGIN READ ONLY'
      : options.repeatableRead || options.importSnapshot !== undefined
        ? 'BEGIN ISOLATION LEVEL REPEATABLE READ'
        : 'BEGIN';
  const imported = options.importSnapshot === undefined ? '' : `; SET TRANSACTION SNAPSHOT '${options.importSnapshot}'`;
  return `${begin}${imported}; SELECT set_config('app.organization_id', '${id}', true)`;
}

/**
 * The prefix that makes one simple-protocol message a tenant statement (the settings end with its implicit
 * transaction): the tenant setting, and no parallel workers. The statements sent this way are a request's (a page, a
 * profile, a count) or a job's bookkeeping, each reading a few index ranges: a parallel plan for them starts worker
 * processes for a page of 50 rows. In a database of several clinics the row-level security's organization filter is
 * estimated at the average clinic's rows, so the million-patient clinic's opportunities page (LIMIT 50) was planned as
 * a Gather Merge over two workers: p95 at one client 16 ms and 283-343 pages/s at 16 clients, against 5.7 ms and
 * 641-657 pages/s without (docs/performance.md, "The nineteenth sitting").
 */
export function tenantStatementPrefix(organizationId: string): string {
  return `SELECT set_config('app.organization_id', '${tenantId(organizationId)}', true), set_config('max_parallel_workers_per_gather', '0', true); `;
}
