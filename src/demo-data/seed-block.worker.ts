/**
 * A generator thread of the seed (seed-block-pool.ts): generates the blocks of one clinic that it is asked for and
 * answers their COPY data (transferred, not copied). Never touches the database or the logs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockGenerator, type GeneratedBlock, type SeedBlockSpec } from 'src/demo-data/seed-block';
import { PhiCipherCore, type PhiKeys } from 'src/records/phi/phi-cipher';

const { spec, keys } = workerData as { spec: SeedBlockSpec; keys: PhiKeys };
// Buffers arrive as plain Uint8Arrays (structured clone).
const master = new PhiCipherCore({
  encryption: keys.encryption.map((k) => ({ version: k.version, key: Buffer.from(k.key) })),
  blindIndex: Buffer.from(keys.blindIndex),
});
const generator = new BlockGenerator(spec, master);

parentPort?.on('message', (block: number) => {
  let generated: GeneratedBlock;
  try {
    generated = generator.generate(block);
  } catch (err) {
    parentPort?.postMessage({ block, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  parentPort?.postMessage(
    generated,
    generated.tables.map((t) => t.data.buffer as ArrayBuffer),
  );
});
