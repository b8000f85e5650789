import { deterministicSample, seededHash } from 'src/scoring/domain/fit-sample';
import { mulberry32 } from 'src/scoring/domain/prng';

const ids = Array.from({ length: 5_000 }, (_, i) => `patient-${i}`);

describe('deterministicSample', () => {
  it('returns everything when there are fewer rows than the limit', () => {
    expect(deterministicSample(ids.slice(0, 10), (id) => id, 20, 1)).toEqual(ids.slice(0, 10));
  });

  it('returns exactly maxSize rows, in input order, the same on every call', () => {
    const sample = deterministicSample(ids, (id) => id, 1_000, 7);
    expect(sample).toHaveLength(1_000);
    expect(new Set(sample).size).toBe(1_000);
    expect(sample).toEqual(deterministicSample(ids, (id) => id, 1_000, 7));
    const positions = sample.map((id) => ids.indexOf(id));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('does not depend on the order of the input', () => {
    const shuffled = [...ids].reverse();
    const a = deterministicSample(ids, (id) => id, 500, 3);
    const b = deterministicSample(shuffled, (id) => id, 500, 3);
    expect(new Set(a)).toEqual(new Set(b));
  });

  it('changes with the seed and is spread over the whole input', () => {
    const a = new Set(deterministicSample(ids, (id) => id, 1_000, 1));
    const b = new Set(deterministicSample(ids, (id) => id, 1_000, 2));
    const overlap = [...a].filter((id) => b.has(id)).length;
    expect(overlap).toBeGreaterThan(100); // ≈ 200 expected for independent 20 % samples
    expect(overlap).toBeLessThan(300);
    const firstHalf = [...a].filter((id) => Number(id.split('-')[1]) < 2_500).length;
    expect(firstHalf).toBeGreaterThan(430);
    expect(firstHalf).toBeLessThan(570);
  });

  it('hash is a 32-bit unsigned integer that depends on seed and key', () => {
    expect(seededHash('a', 1)).toBe(seededHash('a', 1));
    expect(seededHash('a', 1)).not.toBe(seededHash('a', 2));
    expect(seededHash('a', 1)).not.toBe(seededHash('b', 1));
    expect(Number.isInteger(seededHash('xyz', 9)) && seededHash('xyz', 9) >= 0 && seededHash('xyz', 9) < 2 ** 32).toBe(true);
  });
});

describe('mulberry32', () => {
  it('is reproducible and roughly uniform', () => {
    const a = mulberry32(99);
    const b = mulberry32(99);
    const draws = Array.from({ length: 10_000 }, () => a());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    const mean = draws.reduce((s, u) => s + u, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 1);
  });
});
