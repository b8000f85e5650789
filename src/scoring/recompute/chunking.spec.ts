import { idRanges, TAIL_SPLIT, taperedBoundaries } from 'src/scoring/recompute/chunking';

describe('idRanges', () => {
  it('turns chunk boundaries into contiguous, open-ended [from, to) ranges', () => {
    expect(idRanges([])).toEqual([{ from: null, to: null }]);
    expect(idRanges(['b', 'd'])).toEqual([
      { from: null, to: 'b' },
      { from: 'b', to: 'd' },
      { from: 'd', to: null },
    ]);
  });
});

describe('taperedBoundaries', () => {
  const fine = (n: number): string[] => Array.from({ length: n }, (_, i) => `b${String(i + 1).padStart(3, '0')}`);
  const sizes = (boundaries: string[], fineChunks: number): number[] => {
    const starts = [0, ...boundaries.map((b) => Number(b.slice(1))), fineChunks];
    return starts.slice(1).map((end, i) => end - starts[i]);
  };

  it('keeps full chunks, then walks the last two to three chunks in quarters', () => {
    expect(TAIL_SPLIT).toBe(4);
    // A million patients in chunks of 50,000: 80 fine chunks of 12,500.
    expect(sizes(taperedBoundaries(fine(79)), 80)).toEqual([...Array(18).fill(4), ...Array(8).fill(1)]);
    // 18 fine chunks: two full chunks, then ten quarters.
    expect(sizes(taperedBoundaries(fine(17)), 18)).toEqual([4, 4, ...Array(10).fill(1)]);
    // Up to three chunks' worth: quarters only.
    expect(sizes(taperedBoundaries(fine(10)), 11)).toEqual(Array(11).fill(1));
  });

  it('leaves an organization of at most one chunk in one piece', () => {
    expect(taperedBoundaries([])).toEqual([]);
    expect(taperedBoundaries(fine(3))).toEqual([]);
    expect(sizes(taperedBoundaries(fine(4)), 5)).toEqual([1, 1, 1, 1, 1]);
  });
});
