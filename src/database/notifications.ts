import { Client, type ClientConfig, type Notification } from 'pg';

type Listener = (payload: string) => void;

/**
 * PostgreSQL's LISTEN/NOTIFY as the cluster's event channel: every process connected to the same database (API
 * instances, workers, a command run by hand) hears what any of them publishes, with or without Redis. A dedicated
 * connection listens (reconnecting with backoff when it drops); publishing is one statement on any connection.
 * Payloads are small JSON (ids, never PHI; PostgreSQL caps them at 8,000 bytes). A notification is delivered to
 * the publisher too, after its transaction commits.
 */
export class DatabaseNotifications {
  private client: Client | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly config: ClientConfig,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** Calls `listener` with the payload of every notification on `channel` (an identifier of letters and `_`). */
  async listen(channel: string, listener: Listener): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Not a channel name: ${channel}`);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      if (this.client) await this.client.query(`LISTEN ${channel}`);
    }
    set.add(listener);
    await this.connect();
  }

  /** NOTIFY on the given connection (or a short one of its own). */
  static async publish(query: (sql: string, params: unknown[]) => Promise<unknown>, channel: string, payload: unknown): Promise<void> {
    await query('SELECT pg_notify($1, $2)', [channel, JSON.stringify(payload)]);
  }

  private connect(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= (async () => {
      const client = new Client(this.config);
      client.on('notification', (n: Notification) => {
        for (const listener of this.listeners.get(n.channel) ?? []) {
          try {
            listener(n.payload ?? '');
          } catch (err) {
            this.onError(`A listener of ${n.channel} failed: ${(err as Error).message}`);
          }
        }
      });
      client.on('error', (err) => {
        this.onError(`The notification connection failed (${err.message}); reconnecting`);
        this.drop(client);
      });
      client.on('end', () => this.drop(client));
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${channel}`);
      this.client = client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting.catch((err: unknown) => {
      this.onError(`Cannot listen for notifications (${(err as Error).message}); retrying`);
      this.scheduleReconnect();
    });
  }

  private drop(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, 1000);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
