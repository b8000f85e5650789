/**
 * The real application for the read benchmark, in its own process (so the load generator does not share its event
 * loop). Started by bench/read-bench.ts with DATABASE_URL, PORT and a bench JWT_SECRET; prints `listening` when up.
 */
import 'reflect-metadata';
import { createApp } from 'src/app.factory';
import { loadSettings } from 'src/config/settings';

async function main(): Promise<void> {
  const settings = loadSettings(process.env);
  if (!settings.databaseUrl) throw new Error('DATABASE_URL is required');
  const app = await createApp({ settings, databaseUrl: settings.databaseUrl });
  await app.listen({ port: settings.port, host: '127.0.0.1' });
  process.stdout.write('listening\n');
  const stop = (): void => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
