import { InProcessLru } from 'src/common/cache/in-process-lru';

describe('InProcessLru', () => {
  const counting = (): { calls: string[]; decrypt: (s: string) => string } => {
    const calls: string[] = [];
    return { calls, decrypt: (s) => (calls.push(s), `plain(${s})`) };
  };

  it('decrypts a value once and answers repeats from memory', () => {
    const cache = new InProcessLru<string>(10, 60_000);
    const d = counting();
    expect(cache.getOrCompute('v1:a', d.decrypt)).toBe('plain(v1:a)');
    expect(cache.getOrCompute('v1:a', d.decrypt)).toBe('plain(v1:a)');
    expect(cache.getOrCompute('v1:b', d.decrypt)).toBe('plain(v1:b)');
    expect(d.calls).toEqual(['v1:a', 'v1:b']);
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new InProcessLru<string>(2, 60_000);
    const d = counting();
    cache.getOrCompute('a', d.decrypt);
    cache.getOrCompute('b', d.decrypt);
    cache.getOrCompute('a', d.decrypt); // a is now the most recent
    cache.getOrCompute('c', d.decrypt); // evicts b
    expect(cache.size).toBe(2);
    cache.getOrCompute('a', d.decrypt);
    cache.getOrCompute('b', d.decrypt);
    expect(d.calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('decrypts again after the lifetime', () => {
    let now = 1_000;
    const cache = new InProcessLru<string>(10, 500, () => now);
    const d = counting();
    cache.getOrCompute('a', d.decrypt);
    now = 1_499;
    cache.getOrCompute('a', d.decrypt);
    now = 1_500;
    cache.getOrCompute('a', d.decrypt);
    expect(d.calls).toEqual(['a', 'a']);
    expect(cache.size).toBe(1);
  });

  it('keeps nothing when turned off (0 entries)', () => {
    const cache = new InProcessLru<string>(0, 60_000);
    const d = counting();
    cache.getOrCompute('a', d.decrypt);
    cache.getOrCompute('a', d.decrypt);
    expect(d.calls).toEqual(['a', 'a']);
    expect(cache.size).toBe(0);
  });

  it('does not cache a value that fails to decrypt', () => {
    const cache = new InProcessLru<string>(10, 60_000);
    const fail = (): string => {
      throw new Error('authentication failed');
    };
    expect(() => cache.getOrCompute('bad', fail)).toThrow('authentication failed');
    expect(cache.size).toBe(0);
  });
});
