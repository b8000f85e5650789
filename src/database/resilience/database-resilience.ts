import { Client, type ClientConfig } from 'pg';
import { DependencyBreaker } from 'src/common/resilience/dependency-breaker';
import type { Settings } from 'src/config/settings';
import { isDatabaseUnavailable } from 'src/database/resilience/database-failures';

/** The database's time bounds and breaker (docs/resilience.md); the settings' `resilience` block. */
export interface DatabaseResilienceOptions {
  acquireTimeoutMs: number;
  readStatementTimeoutMs: number;
  writeStatementTimeoutMs: number;
  analyticsStatementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  batchStatementTimeoutMs: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  retryAfterSeconds: number;
}

/**
 * The bounds of a command's Database (`new Database(...)` without `resilience`: the seed, the recompute CLI...): no
 * request waits on them, and their bulk statements may be long, so every statement gets the batch class's bound.
 */
export const COMMAND_DATABASE_RESILIENCE: DatabaseResilienceOptions = {
  acquireTimeoutMs: 30_000,
  readStatementTimeoutMs: 900_000,
  writeStatementTimeoutMs: 900_000,
  analyticsStatementTimeoutMs: 900_000,
  idleInTransactionTimeoutMs: 900_000,
  batchStatementTimeoutMs: 900_000,
  breakerFailures: 3,
  breakerHalfOpenMs: 1_000,
  retryAfterSeconds: 5,
};

/** The database's part of the settings' `resilience` block. */
export function databaseResilience(settings: { resilience: Settings['resilience'] }): DatabaseResilienceOptions {
  const r = settings.resilience;
  return {
    acquireTimeoutMs: r.acquireTimeoutMs,
    readStatementTimeoutMs: r.readStatementTimeoutMs,
    writeStatementTimeoutMs: r.writeStatementTimeoutMs,
    analyticsStatementTimeoutMs: r.analyticsStatementTimeoutMs,
    idleInTransactionTimeoutMs: r.idleInTransactionTimeoutMs,
    batchStatementTimeoutMs: r.batchStatementTimeoutMs,
    breakerFailures: r.databaseBreakerFailures,
    breakerHalfOpenMs: r.databaseBreakerHalfOpenMs,
    retryAfterSeconds: r.retryAfterSeconds,
  };
}

/**
 * How much longer than the server's statement_timeout the client waits for an answer. The server cancels a slow
 * statement itself (the connection stays usable); the client's own timer only fires when the server does not answer
 * at all (stalled, partitioned), and then the connection is dropped.
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

/** The probe's bound, connect and ping together. */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * The database's circuit breaker: opens after `breakerFailures` consecutive failures (timeouts, lost connections),
 * then fails every unit of work at once with a 503 until a probe (a fresh connection and `SELECT 1`, outside the
 * pool, every half `breakerHalfOpenMs`) succeeds.
 */
export function databaseBreaker(
  options: DatabaseResilienceOptions,
  probeConfig: ClientConfig,
  onStateChange?: (state: 'closed' | 'open' | 'half-open') => void,
): DependencyBreaker {
  return new DependencyBreaker({
    dependency: 'database',
    failures: options.breakerFailures,
    halfOpenAfterMs: options.breakerHalfOpenMs,
    retryAfterSeconds: options.retryAfterSeconds,
    isFailure: isDatabaseUnavailable,
    probe: () => probeDatabase(probeConfig, PROBE_TIMEOUT_MS),
    onStateChange: onStateChange && ((state) => onStateChange(state)),
  });
}

/** A fresh connection and `SELECT 1`, within `timeoutMs` in all. */
export async function probeDatabase(config: ClientConfig, timeoutMs: number): Promise<void> {
  const client = new Client({ ...config, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('Query read timeout (probe)')), timeoutMs);
      }),
    ]);
  } catch (err) {
    // A stalled server would never answer the goodbye either: drop the socket.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}
