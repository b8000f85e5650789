import { TtlCache } from 'src/auth/ttl-cache';

describe('TtlCache', () => {
  it('serves a value for its lifetime, then loads it again', async () => {
    let now = 0;
    let loads = 0;
    const cache = new TtlCache<number>(5, 100, () => now);
    const load = async (): Promise<number> => ++loads;
    expect(await cache.get('k', load)).toBe(1);
    now = 4_999;
    expect(await cache.get('k', load)).toBe(1);
    now = 5_000;
    expect(await cache.get('k', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('caches nothing with a lifetime of 0, and forgets on delete/clear', async () => {
    let loads = 0;
    const off = new TtlCache<number>(0);
    await off.get('k', async () => ++loads);
    await off.get('k', async () => ++loads);
    expect(loads).toBe(2);
    const on = new TtlCache<number>(60);
    await on.get('k', async () => ++loads);
    on.delete('k');
    await on.get('k', async () => ++loads);
    on.clear();
    await on.get('k', async () => ++loads);
    expect(loads).toBe(5);
  });

  it('stays bounded', async () => {
    const cache = new TtlCache<number>(60, 3, () => 0);
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, async () => i);
    let reloaded = 0;
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, async () => ++reloaded);
    expect(reloaded).toBeGreaterThanOrEqual(7);
  });
});
