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

describe('AggregateCache', () => {
  it('loads once for concurrent misses, then answers from the cache', async () => {
    const cache = new AggregateCache(memoryCache());
    let loads = 0;
    const load = async (): Promise<number> => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return 42;
    };
    expect(await Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load), cache.getOrLoad('k', load)])).toEqual([42, 42, 42]);
    expect(await cache.getOrLoad('k', load)).toBe(42);
    expect(loads).toBe(1);
  });

  it('delete makes the next read load again, and a load begun before it does not store a stale value', async () => {
    const backing = memoryCache();
    const cache = new AggregateCache(backing);
    let value = 1;
    const slow = cache.getOrLoad('k', async () => {
      const v = value;
      await new Promise((r) => setTimeout(r, 20));
      return v;
    });
    await cache.delete('k');
    value = 2;
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
