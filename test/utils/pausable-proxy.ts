import { createServer, Server, Socket, connect } from 'node:net';

/**
 * A TCP proxy in the test process in front of a real PostgreSQL, which the test can pause: while paused it accepts
 * connections and reads nothing it forwards (neither way), as a stalled server, a network partition or a failover
 * looks to a client (the database's processes stopped with SIGSTOP look the same: connections accepted by the
 * kernel, never answered). `resume()` forwards everything held, in order. `dropAll()` cuts every connection (a
 * restarted server). Never touches the server itself, which other test files share.
 */
export interface PausableProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  pause(): void;
  resume(): void;
  /** Connections open through the proxy now. */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startPausableProxy(target: { host: string; port: number }): Promise<PausableProxy> {
  let paused = false;
  const pairs = new Set<Pair>();

  const openUpstream = (pair: Pair): void => {
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      if (paused) pair.toClient.push(chunk);
      else pair.client.write(chunk);
    });
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => {
      pair.client.destroy();
      pairs.delete(pair);
    });
    flush(pair);
  };

  const flush = (pair: Pair): void => {
    if (pair.upstream) for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk);
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: null, toUpstream: [], toClient: [] };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (paused || !pair.upstream) pair.toUpstream.push(chunk);
      else pair.upstream.write(chunk);
    });
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (!paused) openUpstream(pair);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    urlFor(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pause(): void {
      paused = true;
    },
    resume(): void {
      paused = false;
      for (const pair of pairs) {
        if (!pair.upstream) openUpstream(pair);
        else flush(pair);
      }
    },
    connections: () => pairs.size,
    async close(): Promise<void> {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
