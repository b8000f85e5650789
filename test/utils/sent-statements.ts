import { Client } from 'pg';

/** pg's own `Client.prototype.query`, before any spy: for a test's reads that must not be recorded. */
export const unspiedQuery = Client.prototype.query;

/**
 * Records the text of every statement any pg client sends from here on (a simple-protocol message's whole text, or a
 * query config's `text`), passing each to `record`, then sends it as pg would. Undo with `jest.restoreAllMocks()`.
 */
export function recordSentStatements(record: (text: string) => void): jest.SpyInstance {
  return jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const config = args[0] as string | { text?: string };
    record(typeof config === 'string' ? config : String(config?.text));
    return (unspiedQuery as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
}
