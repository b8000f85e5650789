import type { Cache } from 'cache-manager';
import { AggregateCache } from 'src/common/cache/aggregate-cache';

function memoryCache(): Cache & { store: Map<string, unknown> } {
  const store = new Map<string, unknown>();
  return {
    store,
    get: async (k: string) => store.get(k),
    set: async (k: string, v: unknown) => {
      store.set(k, v);
      return v;
    },
    del: async (k: string) => store.delete(k),
    disconnect: async () => undefined,
  } as unknown as Cache & { store: Map<string, unknown> };
}

/** A promise the test resolves when it chooses (a load "in progress" without a sleep). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AggregateCache', () => {
  it('loads once for concurrent misses, then answers from the cache', async () => {
    const cache = new AggregateCache(memoryCache());
    let loads = 0;
    const gate = deferred();
    const load = async (): Promise<number> => {
      loads++;
      await gate.promise;
      return 42;
    };
    const all = Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load), cache.getOrLoad('k', load)]);
    await new Promise((r) => setImmediate(r));
    gate.resolve();
    expect(await all).toEqual([42, 42, 42]);
    expect(await cache.getOrLoad('k', load)).toBe(42);
    expect(loads).toBe(1);
  });

  it('delete makes the next read load again, and a load begun before it does not store a stale value', async () => {
    const backing = memoryCache();
    const cache = new AggregateCache(backing);
    let value = 1;
    const gate = deferred();
    let started = false;
    const slow = cache.getOrLoad('k', async () => {
      const v = value;
      started = true;
      await gate.promise;
      return v;
    });
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(true); // the load has begun before the delete
    await cache.delete('k');
    value = 2;
    gate.resolve();
    expect(await slow).toBe(1);
    expect(backing.store.has('k')).toBe(false);
    expect(await cache.getOrLoad('k', async () => value)).toBe(2);
  });

  it('a failing cache store is bypassed: the value comes from the loader', async () => {
    const broken = { get: async () => Promise.reject(new Error('redis down')), set: async () => Promise.reject(new Error('redis down')), del: async () => true, disconnect: async () => undefined } as unknown as Cache;
    const cache = new AggregateCache(broken);
    expect(await cache.getOrLoad('k', async () => 'db')).toBe('db');
  });
});
