import { nelderMead } from 'src/scoring/domain/nelder-mead';

describe('nelderMead', () => {
  it('finds the minimum of a shifted quadratic', () => {
    const result = nelderMead(([x, y]) => (x - 3) ** 2 + 10 * (y + 1) ** 2, [0, 0]);
    expect(result.converged).toBe(true);
    expect(result.point[0]).toBeCloseTo(3, 5);
    expect(result.point[1]).toBeCloseTo(-1, 5);
    expect(result.value).toBeLessThan(1e-9);
  });

  it('finds the minimum of the Rosenbrock valley', () => {
    const result = nelderMead(([x, y]) => 100 * (y - x * x) ** 2 + (1 - x) ** 2, [-1.2, 1]);
    expect(result.point[0]).toBeCloseTo(1, 4);
    expect(result.point[1]).toBeCloseTo(1, 4);
    expect(result.iterations).toBeGreaterThan(0);
  });

  it('minimizes in four dimensions', () => {
    const target = [0.5, -2, 1.5, 4];
    const result = nelderMead((p) => p.reduce((s, v, i) => s + (i + 1) * (v - target[i]) ** 2, 0), [0, 0, 0, 0]);
    result.point.forEach((v, i) => expect(v).toBeCloseTo(target[i], 5));
  });

  it('treats NaN as +Infinity so it walks away from invalid regions', () => {
    const result = nelderMead(([x]) => (x < 0 ? NaN : (x - 2) ** 2), [1]);
    expect(result.point[0]).toBeCloseTo(2, 5);
  });

  it('reports non-convergence when the iteration budget is too small', () => {
    const result = nelderMead(([x, y]) => 100 * (y - x * x) ** 2 + (1 - x) ** 2, [-1.2, 1], { maxIterations: 5, maxRestarts: 0 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(5);
  });

  it('gives up when asked, where the infimum lies at infinity', () => {
    const unbounded = nelderMead(([x]) => Math.exp(-x), [0], { maxRestarts: 0 });
    expect(unbounded.abandoned).toBeUndefined();
    const result = nelderMead(([x]) => Math.exp(-x), [0], { abandon: ([x]) => x > 10 });
    expect(result).toMatchObject({ abandoned: true, converged: false });
    expect(result.point[0]).toBeGreaterThan(10);
    expect(result.iterations).toBeLessThan(50);
  });
});
