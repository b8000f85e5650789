/**
 * Nelder-Mead downhill simplex minimizer (Nelder & Mead 1965), standard coefficients
 * (reflection 1, expansion 2, contraction 0.5, shrink 0.5), with restarts: after convergence the simplex is
 * rebuilt around the best point and the search repeated until a restart no longer improves the minimum, which
 * guards against the simplex collapsing early (a known weakness of the method).
 */
export interface NelderMeadOptions {
  /** Initial step per coordinate (default 0.5, suited to log-parameters). */
  step?: number;
  /**
   * Converged when the function values in the simplex differ by less than this times (1 + |best value|)
   * (default 1e-12): relative, because a log-likelihood summed over 100,000 rows carries rounding noise far
   * above any fixed absolute tolerance.
   */
  functionTolerance?: number;
  /** ... and the simplex is smaller than this in every coordinate (default 1e-7). */
  pointTolerance?: number;
  maxIterations?: number;
  maxRestarts?: number;
  /**
   * Gives up as soon as this is true of the best point (checked once per iteration): for objectives whose infimum
   * lies at infinity, where the simplex would otherwise crawl along the ridge until `maxIterations`.
   */
  abandon?: (best: readonly number[]) => boolean;
}

export interface NelderMeadResult {
  point: number[];
  value: number;
  iterations: number;
  converged: boolean;
  /** True when `abandon` stopped the search (the point is where it was given up). */
  abandoned?: boolean;
}

export function nelderMead(
  objective: (point: number[]) => number,
  start: readonly number[],
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const maxRestarts = options.maxRestarts ?? 3;
  let result = runSimplex(objective, start, options);
  let iterations = result.iterations;
  for (let restart = 0; restart < maxRestarts && !result.abandoned; restart++) {
    const next = runSimplex(objective, result.point, options);
    iterations += next.iterations;
    const improved = next.value < result.value - (options.functionTolerance ?? 1e-12) * (1 + Math.abs(result.value));
    if (next.value <= result.value || next.abandoned) result = next;
    if (!improved) break;
  }
  return { ...result, iterations };
}

function runSimplex(
  f: (point: number[]) => number,
  start: readonly number[],
  options: NelderMeadOptions,
): NelderMeadResult {
  const n = start.length;
  const step = options.step ?? 0.5;
  const ftol = options.functionTolerance ?? 1e-12;
  const xtol = options.pointTolerance ?? 1e-7;
  const maxIterations = options.maxIterations ?? 5000;
  const evaluate = (p: number[]): number => {
    const value = f(p);
    return Number.isNaN(value) ? Infinity : value;
  };

  let simplex: number[][] = [start.slice()];
  for (let i = 0; i < n; i++) {
    const vertex = start.slice();
    vertex[i] += step;
    simplex.push(vertex);
  }
  let values = simplex.map(evaluate);

  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
    simplex = order.map((i) => simplex[i]);
    values = order.map((i) => values[i]);

    const spread = Math.abs(values[n] - values[0]);
    const size = Math.max(...simplex.slice(1).map((v) => Math.max(...v.map((x, k) => Math.abs(x - simplex[0][k])))));
    if (spread <= ftol * (1 + Math.abs(values[0])) && size <= xtol) return { point: simplex[0], value: values[0], iterations: iteration, converged: true };
    if (options.abandon?.(simplex[0])) return { point: simplex[0], value: values[0], iterations: iteration, converged: false, abandoned: true };

    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) centroid[k] += simplex[i][k] / n;
    const along = (t: number): number[] => centroid.map((c, k) => c + t * (simplex[n][k] - c));

    const reflected = along(-1);
    const fr = evaluate(reflected);
    if (fr < values[0]) {
      const expanded = along(-2);
      const fe = evaluate(expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = fr < values[n] ? along(-0.5) : along(0.5);
      const fc = evaluate(contracted);
      if (fc < Math.min(fr, values[n])) {
        [simplex[n], values[n]] = [contracted, fc];
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i].map((x, k) => simplex[0][k] + 0.5 * (x - simplex[0][k]));
          values[i] = evaluate(simplex[i]);
        }
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return { point: simplex[best], value: values[best], iterations: maxIterations, converged: false };
}
