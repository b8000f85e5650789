/**
 * Deterministic sampling for model fits on large organizations: keep the `maxSize` rows whose seeded hash of the
 * key (the patient id) is smallest. The same patients are chosen whatever order the rows arrive in and on every
 * refit with the same seed, and the choice is independent of the patient's data, so the sample is a uniform
 * random one for estimation purposes.
 */

/** 32-bit FNV-1a of the string, mixed with the seed and finalized with MurmurHash3's fmix32. */
export function seededHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** At most `maxSize` rows, chosen by seeded hash of `key(row)`, returned in their input order. */
export function deterministicSample<T>(rows: readonly T[], key: (row: T) => string, maxSize: number, seed: number): T[] {
  if (rows.length <= maxSize) return rows.slice();
  const limit = Math.max(0, Math.floor(maxSize));
  const ranked = rows.map((row, index) => ({ index, hash: seededHash(key(row), seed), key: key(row) }));
  // Ties in the 32-bit hash are broken by key, so the result never depends on input order.
  ranked.sort((x, y) => x.hash - y.hash || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return ranked
    .slice(0, limit)
    .map((r) => r.index)
    .sort((x, y) => x - y)
    .map((i) => rows[i]);
}
