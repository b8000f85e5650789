import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/** A progress bar on a terminal; elsewhere (CI, pipes) a plain line every few seconds. Writes to stderr. */
export function progressReporter(label: string, total: number, everyMs = 3000): Progress {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} (eta {eta_formatted})`, stream: process.stderr }, Presets.shades_classic);
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let last = 0;
  const started = Date.now();
  return {
    update(done) {
      const now = Date.now();
      if (now - last < everyMs && done < total) return;
      last = now;
      process.stderr.write(`${label}: ${done}/${total} (${total ? Math.round((done / total) * 100) : 100}%) after ${((now - started) / 1000).toFixed(1)} s\n`);
    },
    stop: () => undefined,
  };
}
