/**
 * Waits for something another part of the app does in the background (an event's subscriber, a lock wait, a log
 * line): calls `probe` until `done` accepts its value, and returns that value. A generous bound (default 30 s) only
 * keeps a broken test from hanging; nothing depends on how long the wait takes, unlike a sleep.
 */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${options.what ?? 'condition'} not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
