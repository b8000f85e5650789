/** The median wall time, in microseconds, of `rounds` runs of `work` (for CPU-bound micro-benchmarks). */
export function medianMicros(work: () => void, rounds: number): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}
