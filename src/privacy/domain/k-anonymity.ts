/**
 * k-anonymity by stepwise generalization, then suppression (docs/privacy.md, "Small cells"). Pure.
 *
 * Each row has a ladder of quasi-identifier tuples, from the most precise (level 0) to the most general. At level 0
 * the rows are grouped by their tuple; every group of at least k rows is released at that level. The rows left
 * over are grouped again at level 1, among themselves only, and so on; rows still in groups smaller than k after
 * the last level are suppressed. Every released group has at least k rows, so every released combination of
 * quasi-identifier values (groups of different levels that happen to print alike only add up) covers at least k rows.
 */

export interface LadderRow {
  /** The row's quasi-identifier values at each level, most precise first; every row has the same number of levels. */
  levels: readonly (readonly string[])[];
}

export interface KAnonymityResult {
  /** For each input row, the level it is released at, or null when suppressed. */
  levelOf: (number | null)[];
  /** Rows released per level. */
  releasedPerLevel: number[];
  suppressed: number;
}

const keyOf = (values: readonly string[]): string => values.join('\u0000');

export function kAnonymize(rows: readonly LadderRow[], k: number): KAnonymityResult {
  if (!Number.isInteger(k) || k < 1) throw new RangeError('k must be an integer of at least 1');
  const depth = rows.length === 0 ? 0 : rows[0].levels.length;
  if (rows.some((r) => r.levels.length !== depth)) throw new RangeError('every row needs the same number of generalization levels');
  const levelOf: (number | null)[] = rows.map(() => null);
  const releasedPerLevel: number[] = Array.from({ length: depth }, () => 0);
  let pending = rows.map((_, i) => i);
  for (let level = 0; level < depth && pending.length > 0; level++) {
    const groups = new Map<string, number[]>();
    for (const i of pending) {
      const key = keyOf(rows[i].levels[level]);
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    }
    const next: number[] = [];
    for (const members of groups.values()) {
      if (members.length >= k) {
        for (const i of members) levelOf[i] = level;
        releasedPerLevel[level] += members.length;
      } else next.push(...members);
    }
    pending = next;
  }
  return { levelOf, releasedPerLevel, suppressed: pending.length };
}

/** The count of rows per released combination of values (a check for tests and the report). */
export function groupSizes(tuples: readonly (readonly string[])[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const t of tuples) sizes.set(keyOf(t), (sizes.get(keyOf(t)) ?? 0) + 1);
  return sizes;
}
