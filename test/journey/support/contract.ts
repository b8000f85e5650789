import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Validates a response body against the contract's JSON Schema (local helper of the journey, engagement and
 * opportunities tests). The schemas are read from `contract/` in the repository when present, else from the
 * shared contract folder.
 */
const DIRS = [process.env.CONTRACT_DIR, resolve(__dirname, '../../../contract'), '/work/shared/contract'].filter((d): d is string => !!d);

let ajv: Ajv2020 | null = null;

function load(): Ajv2020 {
  if (ajv) return ajv;
  const dir = DIRS.find((d) => existsSync(join(d, 'common.schema.json')));
  if (!dir) throw new Error(`No contract schemas in ${DIRS.join(', ')}`);
  const a = new Ajv2020({ allErrors: true, strict: false });
  addFormats(a);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.schema.json'))) {
    a.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')) as object, f);
  }
  ajv = a;
  return a;
}

/** The schema's errors for `body` (empty when it conforms). */
export function contractErrors(schema: string, body: unknown): string[] {
  const validate = load().getSchema(schema);
  if (!validate) throw new Error(`No schema ${schema}`);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
