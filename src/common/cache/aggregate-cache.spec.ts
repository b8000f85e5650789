import type { Cache } from 'cache-manager';
import { AggregateCache } from 'src/common/cache/aggregate-cache';
import type { Freshness } from 'src/common/cache/freshness';
import type { RedisGuard } from 'src/common/resilience/redis-guard';
import { ServiceUnavailableError } from 'src/common/resilience/service-unavailable';
import type { Settings } from 'src/config/settings';

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

  it('puts the Redis store\'s commands through the guard, and not the in-process store\'s (no REDIS_URL)', async () => {
    const guarded: string[] = [];
    const guard = { run: <T>(op: () => Promise<T>): Promise<T> => (guarded.push('run'), op()), close: () => undefined } as unknown as RedisGuard;
    const withRedis = { cacheTtlSeconds: 60, redisUrl: 'redis://127.0.0.1:6379', resilience: { staleIfErrorSeconds: 0 } } as unknown as Settings;
    const inProcess = { ...withRedis, redisUrl: null } as unknown as Settings;
    expect(await new AggregateCache(memoryCache(), guard, withRedis).getOrLoad('k', async () => 1)).toBe(1);
    expect(guarded).toEqual(['run', 'run']); // the read that missed, the write
    guarded.length = 0;
    const local = new AggregateCache(memoryCache(), guard, inProcess);
    expect(await local.getOrLoad('k', async () => 2)).toBe(2);
    expect(await local.getOrLoad('k', async () => 3)).toBe(2);
    expect(guarded).toEqual([]);
  });

  describe('stale if error: the request\'s freshness record is the one its caller passes', () => {
    const settings = { cacheTtlSeconds: 60, resilience: { staleIfErrorSeconds: 600 } } as unknown as Settings;
    const away = (): Promise<never> => Promise.reject(new ServiceUnavailableError('database', 5, 'timeout'));

    it('marks the record of each request served the last good answer, and no other', async () => {
      const backing = memoryCache();
      const cache = new AggregateCache(backing, undefined, settings);
      // The clock fixed from the load on (the value's stamp and the ages below are then exact).
      const loadedAt = Date.now();
      const now = jest.spyOn(Date, 'now').mockReturnValue(loadedAt);
      try {
        const fresh: Freshness = {};
        expect(await cache.getOrLoad('k', async () => 'v1', undefined, { freshness: fresh })).toBe('v1');
        expect(fresh).toEqual({});
        backing.store.clear(); // expired from the store; the database is away now
        now.mockReturnValue(loadedAt + 90_000);
        const a: Freshness = {};
        const b: Freshness = {};
        const gate = deferred();
        // Two requests share one load (single flight): each gets its own mark.
        const both = Promise.all([
          cache.getOrLoad('k', () => gate.promise.then(away), undefined, { freshness: a }),
          cache.getOrLoad('k', () => gate.promise.then(away), undefined, { freshness: b }),
        ]);
        gate.resolve();
        expect(await both).toEqual(['v1', 'v1']);
        expect(a).toEqual({ staleAgeSeconds: 90, staleBySeconds: 30 });
        expect(b).toEqual({ staleAgeSeconds: 90, staleBySeconds: 30 });
        // Without a record (a caller outside a request) the stale answer is served all the same.
        expect(await cache.getOrLoad('k', away)).toBe('v1');
        // The record keeps the oldest stale value the answer holds.
        expect(await cache.getOrLoad('k', async () => 'other', undefined, { freshness: a })).toBe('other');
        expect(a).toEqual({ staleAgeSeconds: 90, staleBySeconds: 30 });
      } finally {
        now.mockRestore();
      }
    });

    it('past the stale window the 503 goes through and the record stays unmarked', async () => {
      const backing = memoryCache();
      const cache = new AggregateCache(backing, undefined, settings);
      // The clock fixed from the load on (the value's stamp is then exactly loadedAt).
      const loadedAt = Date.now();
      const now = jest.spyOn(Date, 'now').mockReturnValue(loadedAt);
      try {
        await cache.getOrLoad('k', async () => 'v1');
        backing.store.clear();
        now.mockReturnValue(loadedAt + (60 + 600) * 1000 + 1);
        const f: Freshness = {};
        await expect(cache.getOrLoad('k', away, undefined, { freshness: f })).rejects.toBeInstanceOf(ServiceUnavailableError);
        expect(f).toEqual({});
      } finally {
        now.mockRestore();
      }
    });
  });
});

describe('AggregateCache writeBehind (the counts of a cold clinic: the request does not wait for the Redis write)', () => {
  /** A store whose `set` waits for the test (and can fail), counting its reads. */
  function slowStore(fail: boolean): { cache: Cache; gate: { promise: Promise<void>; resolve: () => void }; gets: () => number; sets: () => number } {
    const gate = deferred();
    const store = new Map<string, unknown>();
    let gets = 0;
    let sets = 0;
    const cache = {
      get: async (k: string) => {
        gets++;
        return store.get(k);
      },
      set: async (k: string, v: unknown) => {
        sets++;
        await gate.promise;
        if (fail) throw new Error('redis write refused');
        store.set(k, v);
        return v;
      },
      del: async (k: string) => store.delete(k),
      disconnect: async () => undefined,
    } as unknown as Cache;
    return { cache, gate, gets: () => gets, sets: () => sets };
  }

  it('answers before the write lands; misses meanwhile share the load; once written, the store answers', async () => {
    const { cache, gate, sets } = slowStore(false);
    const aggregates = new AggregateCache(cache);
    let loads = 0;
    const load = async (): Promise<{ n: number }> => ({ n: ++loads });
    // The write is held: without writeBehind this would wait for it.
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toEqual({ n: 1 });
    expect(sets()).toBe(1);
    // A miss while the write is in flight gets the same load's value (single flight kept), no second load.
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toEqual({ n: 1 });
    expect(loads).toBe(1);
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toEqual({ n: 1 });
    expect(loads).toBe(1);
    expect(sets()).toBe(1);
  });

  it('a failed write is logged, never fails the request; the next miss after it loads again', async () => {
    const { cache, gate } = slowStore(true);
    const aggregates = new AggregateCache(cache);
    const warn = jest.spyOn((aggregates as unknown as { log: { warn: (m: string) => void } }).log, 'warn').mockImplementation(() => undefined);
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toBe(1);
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('redis write refused');
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toBe(2);
    expect(loads).toBe(2);
  });

  it('without writeBehind the caller still waits for the write', async () => {
    const { cache, gate } = slowStore(false);
    const aggregates = new AggregateCache(cache);
    let answered = false;
    const pending = aggregates.getOrLoad('k', async () => 7).then((v) => ((answered = true), v));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    gate.resolve();
    expect(await pending).toBe(7);
  });

  it('an invalidation during the write: the next miss loads afresh (not the in-flight load)', async () => {
    const { cache, gate } = slowStore(false);
    const aggregates = new AggregateCache(cache);
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toBe(1);
    await aggregates.delete('counts');
    expect(await aggregates.getOrLoad('counts', load, undefined, { writeBehind: true })).toBe(2);
    gate.resolve();
  });
});
