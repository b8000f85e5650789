import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ImportPass, LineResult, prepareLine } from 'src/fhir-import/fhir-prepare';

/** Each worker's old-generation heap limit (MB). */
const WORKER_HEAP_MB = 256;

interface Pending {
  resolve: (results: LineResult[]) => void;
  reject: (err: Error) => void;
}

/**
 * Where the NDJSON import parses, validates and maps its lines (docs/fhir.md, "Speed"): Medplum's validator is
 * most of the import's CPU, so with `workers` > 0 it runs in that many worker threads while the main thread writes the
 * previous chunk; with 0, in the calling thread. Each worker loads the FHIR definitions once (a few seconds, about
 * 100 MB). Results come back in the order of the batches asked for, whatever the worker.
 */
export class PreparePool {
  private readonly workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private next = 0;
  private failure: Error | null = null;

  constructor(count: number) {
    // Compiled: the .js worker next to this file; from TypeScript sources (ts-node, Jest): the .ts one through ts-node.
    const ext = extname(__filename);
    const file = join(__dirname, `fhir-prepare.worker${ext}`);
    const execArgv = ext === '.ts' ? ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'] : [];
    for (let i = 0; i < count; i++) {
      // A bounded heap: the definitions (about 90 MB) and a batch or two of lines; garbage is collected early.
      const worker = new Worker(file, { execArgv, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      const entry = { worker, pending: new Map<number, Pending>() };
      const fail = (err: Error): void => {
        this.failure ??= err;
        for (const p of entry.pending.values()) p.reject(err);
        entry.pending.clear();
      };
      worker.on('message', (m: { id: number; results: LineResult[] }) => {
        const p = entry.pending.get(m.id);
        entry.pending.delete(m.id);
        p?.resolve(m.results);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (entry.pending.size > 0) fail(new Error(`FHIR prepare worker exited (code ${code})`));
      });
      this.workers.push(entry);
    }
  }

  /** How many worker threads (0: the calling thread). */
  get size(): number {
    return this.workers.length;
  }

  /** The results of these lines in this pass, by position. */
  prepare(lines: string[], pass: ImportPass, source: string): Promise<LineResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(lines.map((l) => prepareLine(l, pass, source)));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    // The least busy worker.
    const entry = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.next++;
    return new Promise<LineResult[]>((resolve, reject) => {
      entry.pending.set(id, { resolve, reject });
      entry.worker.postMessage({ id, lines, pass, source });
    });
  }

  /** Stops the workers; batches still pending are dropped (their promises never settle). */
  async close(): Promise<void> {
    for (const w of this.workers) w.pending.clear();
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }
}
