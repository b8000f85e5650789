/**
 * PostgreSQL's `percentile_disc(fraction) WITHIN GROUP (ORDER BY v)` over these values: the first value, in ascending
 * order, whose position reaches `fraction` of the count (the ceil(fraction × n)-th, at least the first); null for no
 * values. Numbers only (the callers' are integers): a NaN is not expected.
 */
export function percentileDisc(values: ArrayLike<number>, fraction: number): number | null {
  const n = values.length;
  if (n === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(1, Math.ceil(fraction * n)) - 1];
}
