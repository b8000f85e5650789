/** Patients per chunk of an organization-wide recompute (one features query and one write each). */
export const DEFAULT_CHUNK_SIZE = 50_000;

/** Quarter chunks: the last two chunks' worth of patients is walked in chunks a quarter of the size. */
export const TAIL_SPLIT = 4;

/**
 * Chunk boundaries from `fine` boundaries (every `chunkSize / TAIL_SPLIT` patients, so `fine.length + 1` fine
 * chunks): full chunks of TAIL_SPLIT fine ones, then the last 2 to 3 chunks' worth left in fine chunks. Two
 * connections take chunks in turn, so the run ends when the later one finishes its last chunk: with full chunks to
 * the end, one connection idled for half a chunk on average (about 2.5 s at a million patients) while the other
 * finished; with quarter chunks at the end, an eighth. An organization of at most TAIL_SPLIT fine chunks (at most
 * `chunkSize` patients) stays one chunk: its models are then fitted on all of it, from that chunk's features.
 */
export function taperedBoundaries(fine: readonly string[]): string[] {
  const chunks = fine.length + 1;
  if (chunks <= TAIL_SPLIT) return [];
  const head = Math.floor(Math.max(0, chunks - 2 * TAIL_SPLIT) / TAIL_SPLIT) * TAIL_SPLIT; // fine chunks in full chunks
  // fine[i] is where fine chunk i + 1 begins.
  return fine.filter((_, i) => i + 1 >= head || (i + 1) % TAIL_SPLIT === 0);
}

/** Consecutive [from, to) id ranges starting at each boundary (null = open end); one open range without any. */
export function idRanges(boundaries: readonly string[]): { from: string | null; to: string | null }[] {
  const starts = [null, ...boundaries];
  return starts.map((from, i) => ({ from, to: i < boundaries.length ? boundaries[i] : null }));
}
