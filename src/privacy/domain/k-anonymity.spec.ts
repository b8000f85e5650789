import fc from 'fast-check';
import { groupSizes, kAnonymize, LadderRow } from 'src/privacy/domain/k-anonymity';

const row = (...levels: string[][]): LadderRow => ({ levels });

describe('kAnonymize', () => {
  it('releases groups of k at the first level, generalizes the rest, suppresses what never reaches k', () => {
    const rows = [
      ...Array.from({ length: 3 }, () => row(['a', '1'], ['a', '*'])),
      ...Array.from({ length: 2 }, () => row(['a', '2'], ['a', '*'])),
      row(['b', '1'], ['b', '*']),
    ];
    const r = kAnonymize(rows, 3);
    expect(r.levelOf).toEqual([0, 0, 0, null, null, null]);
    expect(r.releasedPerLevel).toEqual([3, 0]);
    expect(r.suppressed).toBe(3);
    const r2 = kAnonymize(rows, 2);
    expect(r2.levelOf).toEqual([0, 0, 0, 0, 0, null]);
    expect(r2.suppressed).toBe(1);
  });

  it('regroups the leftovers among themselves at the next level', () => {
    const rows = [row(['a', '1'], ['x']), row(['a', '2'], ['x']), row(['a', '1'], ['x'])];
    const r = kAnonymize(rows, 2);
    expect(r.levelOf).toEqual([0, null, 0]);
    expect(r.suppressed).toBe(1);
    expect(kAnonymize(rows, 3).levelOf).toEqual([1, 1, 1]);
  });

  it('handles no rows and refuses a bad k or ragged ladders', () => {
    expect(kAnonymize([], 11)).toEqual({ levelOf: [], releasedPerLevel: [], suppressed: 0 });
    expect(() => kAnonymize([row(['a'])], 0)).toThrow(RangeError);
    expect(() => kAnonymize([row(['a'])], 1.5)).toThrow(RangeError);
    expect(() => kAnonymize([row(['a']), row(['a'], ['b'])], 1)).toThrow(RangeError);
  });

  it('property: every released combination covers at least k rows, and released + suppressed = all', () => {
    const value = fc.constantFrom('a', 'b', 'c', 'd');
    fc.assert(
      fc.property(fc.array(fc.tuple(value, value, value), { maxLength: 200 }), fc.integer({ min: 1, max: 15 }), (tuples, k) => {
        const rows = tuples.map(([x, y, z]) => row([x, y, z], [x, y, '*'], [x, '*', '*'], ['*', '*', '*']));
        const r = kAnonymize(rows, k);
        const released = rows.flatMap((rw, i) => (r.levelOf[i] === null ? [] : [rw.levels[r.levelOf[i] as number]]));
        for (const size of groupSizes(released).values()) expect(size).toBeGreaterThanOrEqual(k);
        expect(released.length + r.suppressed).toBe(rows.length);
        expect(r.releasedPerLevel.reduce((a, b) => a + b, 0)).toBe(released.length);
        // Nothing is suppressed when the most general level alone could release everything.
        expect(r.suppressed === 0 || rows.length - released.length < k || r.suppressed < k).toBe(true);
      }),
    );
  });
});
