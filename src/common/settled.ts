/**
 * The values of promises settled together (`Promise.allSettled`'s results), in their order, or the first one's
 * failure: the caller waits for every one of them before it sees any failure (two halves of a build writing the same
 * fresh table: neither still writes it when the other's failure drops it).
 */
export function settled<T extends readonly unknown[]>(results: { [K in keyof T]: PromiseSettledResult<T[K]> }): T {
  for (const r of results as readonly PromiseSettledResult<unknown>[]) if (r.status === 'rejected') throw r.reason;
  return (results as readonly PromiseSettledResult<unknown>[]).map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
