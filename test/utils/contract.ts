import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * The front end's contract: JSON Schemas (draft 2020-12), one per endpoint, vendored in test/fixtures/contract (see
 * its README; kept equal to the product's `../shared/contract` by test/foundation/vendored-contract.int-spec.ts).
 */
export const CONTRACT_DIR = resolve(__dirname, '../fixtures/contract');

let ajv: Ajv2020 | null = null;

function load(): Ajv2020 {
  if (ajv) return ajv;
  const instance = new Ajv2020({ allErrors: true, strict: false });
  addFormats(instance);
  for (const file of readdirSync(CONTRACT_DIR).filter((f) => f.endsWith('.schema.json'))) {
    instance.addSchema(JSON.parse(readFileSync(resolve(CONTRACT_DIR, file), 'utf8')) as object);
  }
  ajv = instance;
  return instance;
}

/** The validator of one contract schema, by file name (`profiles.schema.json`) or `$id`. */
export function contractValidator(schema: string): ValidateFunction {
  const v = load().getSchema(schema);
  if (!v) throw new Error(`No contract schema ${schema} in ${CONTRACT_DIR}`);
  return v;
}

/** The contract errors of `body` against `schema`, as readable lines (empty when it validates). */
export function contractErrors(schema: string, body: unknown): string[] {
  const validate = contractValidator(schema);
  return validate(body) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/** Jest helper: `expectContract('profile.schema.json', res.json())`. */
export function expectContract(schema: string, body: unknown): void {
  expect(contractErrors(schema, body)).toEqual([]);
}
