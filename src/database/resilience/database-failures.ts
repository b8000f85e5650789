import { isServerError } from 'src/database/tenant/tenant-db';

/**
 * SQLSTATEs that mean the database cannot serve now (as opposed to a bad statement): a connection exception (class
 * 08), insufficient resources (53), an operator intervention (57: admin/crash shutdown, cannot connect now, and
 * 57014, a statement cancelled by statement_timeout), and 25P03 (idle_in_transaction_session_timeout).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)|^25P03$/;

/** Driver errors without a SQLSTATE that mean the same: timeouts, refused, reset or closed connections. */
const UNAVAILABLE_MESSAGE =
  /Query read timeout|timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|not queryable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|socket hang up|Cannot use a pool after calling end/i;

/** Whether `err` means the database is away (it counts toward its circuit breaker and becomes a 503). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (isServerError(err)) return UNAVAILABLE_SQLSTATE.test(code as string);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && UNAVAILABLE_MESSAGE.test(code)) return true;
  return UNAVAILABLE_MESSAGE.test(err.message);
}
