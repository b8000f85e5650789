import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BlockGenerator, blockCount, type GeneratedBlock, type SeedBlockSpec } from 'src/demo-data/seed-block';
import type { SeedPools } from 'src/demo-data/seed-catalog';
import type { PhiCipherCore } from 'src/records/phi/phi-cipher';

/** Blocks asked of each generator thread ahead of the one being written (memory: about 3.5 MB of COPY data each). */
const AHEAD_PER_WORKER = 3;

/** Generator threads by default: one per core, at most 4 (the main thread only streams the COPY data). */
export const defaultSeedWorkers = (): number => Math.min(4, availableParallelism());

/**
 * Where a clinic's blocks are generated (docs/performance.md, "The seed"): with `workers` > 0 in that many worker
 * threads, which generate and encrypt while the main thread streams earlier blocks into PostgreSQL; with 0, in the
 * calling thread. `block(i)` answers block i (asked for in order, 0, 1, 2, ...), whatever thread made it; the same
 * clinic either way (seed-block.ts).
 */
export class SeedBlockPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (b: GeneratedBlock) => void; reject: (err: Error) => void; promise: Promise<GeneratedBlock> }>();
  private readonly local: BlockGenerator | null;
  private readonly blocks: number;
  private asked = 0;
  private failure: Error | null = null;

  constructor(spec: SeedBlockSpec, master: PhiCipherCore, workers: number, pools?: SeedPools) {
    this.blocks = blockCount(spec.patients);
    const count = Math.max(0, Math.min(workers, this.blocks));
    this.local = count === 0 ? new BlockGenerator(spec, master, pools) : null;
    // Compiled: the .js worker next to this file; from TypeScript sources (ts-node, Jest): the .ts one through ts-node.
    const ext = extname(__filename);
    const file = join(__dirname, `seed-block.worker${ext}`);
    const execArgv = ext === '.ts' ? ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'] : [];
    const keys = count > 0 ? master.keysForWorkerThread() : null;
    for (let i = 0; i < count; i++) {
      const worker = new Worker(file, { execArgv, workerData: { spec, keys } });
      worker.on('message', (m: GeneratedBlock | { block: number; error: string }) => {
        const p = this.pending.get(m.block);
        if (!p) return;
        if ('error' in m) p.reject(new Error(`seed generator thread: ${m.error}`));
        else p.resolve(m);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`seed generator thread exited (code ${code})`));
      });
      this.workers.push(worker);
    }
  }

  /** How many generator threads (0: the calling thread). */
  get size(): number {
    return this.workers.length;
  }

  /** Block `i`; blocks are asked for in order (each at most once). */
  block(i: number): Promise<GeneratedBlock> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.local) {
      try {
        return Promise.resolve(this.local.generate(i));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    // Keep every thread busy: blocks up to AHEAD_PER_WORKER per thread beyond this one, round robin.
    while (this.asked < this.blocks && this.asked <= i + AHEAD_PER_WORKER * this.workers.length) this.ask(this.asked++);
    const p = this.pending.get(i);
    if (!p) return Promise.reject(new Error(`seed block ${i} was not asked for`));
    return p.promise.finally(() => this.pending.delete(i));
  }

  private ask(block: number): void {
    let resolve!: (b: GeneratedBlock) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<GeneratedBlock>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A failure surfaces where the block is awaited, not as an unhandled rejection.
    promise.catch(() => undefined);
    this.pending.set(block, { resolve, reject, promise });
    this.workers[block % this.workers.length].postMessage(block);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
  }

  /** Stops the threads; blocks still pending are dropped. */
  async close(): Promise<void> {
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
