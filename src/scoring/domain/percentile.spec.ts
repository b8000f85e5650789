import { percentileDisc } from 'src/scoring/domain/percentile';

describe('percentileDisc (PostgreSQL percentile_disc)', () => {
  it('is null without values', () => {
    expect(percentileDisc([], 0.75)).toBeNull();
  });

  it('takes the ceil(fraction × n)-th value in ascending numeric order', () => {
    expect(percentileDisc([5], 0.75)).toBe(5);
    expect(percentileDisc([40, 10, 30, 20], 0.75)).toBe(30); // ceil(3) = 3rd
    expect(percentileDisc([50, 10, 40, 20, 30], 0.75)).toBe(40); // ceil(3.75) = 4th
    expect(percentileDisc([9, 100, 20, 3], 0.75)).toBe(20); // numeric, not text, order
    expect(percentileDisc([0, 0, -5, 7, 7, 7, 2, 1], 0.75)).toBe(7); // ceil(6) = 6th
    expect(percentileDisc([3, 1, 2], 0)).toBe(1);
    expect(percentileDisc([3, 1, 2], 1)).toBe(3);
  });
});
