import { Client } from 'pg';
import { redactUrl } from 'src/config/settings';

export class DatabaseUnreachableError extends Error {
  constructor(readonly target: string, cause: string) {
    super(`Cannot reach PostgreSQL at ${target}: ${cause}`);
    this.name = 'DatabaseUnreachableError';
  }
}

/** Where a database URL points, for messages: host, port and database, never the password. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return redactUrl(url);
  }
}

/** Retries a connection until it succeeds or `timeoutSeconds` pass, then throws naming the host. */
export async function waitForDatabase(
  url: string,
  timeoutSeconds: number,
  onRetry: (message: string) => void = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      const reason = err instanceof Error ? err.message : String(err);
      if (Date.now() >= deadline) throw new DatabaseUnreachableError(describeDatabase(url), reason);
      onRetry(`PostgreSQL at ${describeDatabase(url)} not reachable (${reason}); retrying (attempt ${attempt})`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * attempt)));
    }
  }
}
