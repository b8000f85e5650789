import { MemoryThrottlerStorage } from 'src/auth/throttling/memory-throttler.storage';

describe('MemoryThrottlerStorage (fixed window per key, as the Redis store)', () => {
  let now = 1_000_000;
  let storage: MemoryThrottlerStorage;
  beforeEach(() => {
    now = 1_000_000;
    storage = new MemoryThrottlerStorage(() => now);
  });
  afterEach(() => storage.onApplicationShutdown());

  it('counts hits in the window and blocks past the limit for the block duration', async () => {
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await storage.increment('1.2.3.4', 60_000, 3, 60_000, 'ip'));
    expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
    expect(hits[0].timeToExpire).toBe(60);
    expect(hits[3].timeToBlockExpire).toBe(60);
    now += 30_500;
    const blocked = await storage.increment('1.2.3.4', 60_000, 3, 60_000, 'ip');
    expect(blocked).toEqual({ totalHits: 4, timeToExpire: 30, isBlocked: true, timeToBlockExpire: 30 });
  });

  it('starts a new window once the old one is over, and keys and throttler names count apart', async () => {
    await storage.increment('a', 1_000, 1, 1_000, 'ip');
    expect((await storage.increment('b', 1_000, 1, 1_000, 'ip')).isBlocked).toBe(false);
    expect((await storage.increment('a', 1_000, 1, 1_000, 'caller')).isBlocked).toBe(false);
    expect((await storage.increment('a', 1_000, 1, 1_000, 'ip')).isBlocked).toBe(true);
    now += 1_001;
    expect(await storage.increment('a', 1_000, 1, 1_000, 'ip')).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('costs the same at any limit (200,000 hits in one window; the throttler store it replaces threw past ~100,000) and forgets expired counters', async () => {
    for (let i = 0; i < 200_000; i++) await storage.increment('k', 60_000, 2_000_000, 60_000, 'ip');
    expect((await storage.increment('k', 60_000, 2_000_000, 60_000, 'ip')).totalHits).toBe(200_001);
    await storage.increment('other', 60_000, 10, 60_000, 'ip');
    expect(storage.size).toBe(2);
    now += 60_001;
    storage.sweep();
    expect(storage.size).toBe(0);
  });
});
