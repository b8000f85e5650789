import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LineSource } from 'src/fhir-import/fhir-ndjson-import';

/** A path that is neither a Bundle, an NDJSON file nor a folder of them. */
export class LocalFileError extends Error {}

/** A local NDJSON file, read line by line (never whole), as often as the import's passes need. */
export function localFile(path: string): LineSource {
  return {
    name: path,
    bytes: statSync(path).size,
    lines: () => createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity }),
  };
}

/** The files named: `.json` Bundles, `.ndjson` files, and folders of those (a Bulk export, its `log.ndjson` left out), sorted by name. */
export function collectFhirFiles(paths: string[]): { bundles: string[]; ndjson: string[] } {
  const out = { bundles: [] as string[], ndjson: [] as string[] };
  const add = (p: string): void => {
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) throw new LocalFileError(`No such file or folder: ${p}`);
    if (s.isDirectory()) {
      for (const name of readdirSync(p).sort()) if (/\.(nd)?json$/.test(name) && name !== 'log.ndjson') add(join(p, name));
    } else if (p.endsWith('.ndjson')) out.ndjson.push(p);
    else if (p.endsWith('.json')) out.bundles.push(p);
    else throw new LocalFileError(`${p}: expected a .json Bundle, a .ndjson file or a folder of them`);
  };
  paths.forEach(add);
  return out;
}
