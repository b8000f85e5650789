import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONTRACT_DIR, contractErrors } from 'test/utils/contract';

/**
 * openapi.json against the front end's contract (test/fixtures/contract): each documented example validates against
 * the contract's schema, and the documented response schemas declare every field the contract requires, as required,
 * with the contract's type, nullability and enum values.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
}
interface Response {
  $ref?: string;
  content?: Record<string, { schema?: Schema; example?: unknown }>;
}
interface Operation {
  operationId: string;
  responses: Record<string, Response>;
}
const document = JSON.parse(readFileSync(resolve(__dirname, '../../openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Response> };
};
const resolved = (r: Response): Response => (r.$ref ? document.components.responses[r.$ref.replace('#/components/responses/', '')] : r);
const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
const operation = (id: string): Operation => {
  const found = operations.find((o) => o.operationId === id);
  if (!found) throw new Error(`No operation ${id} in openapi.json`);
  return found;
};

/** The contract's schema of each of the six patient endpoints, and the operation that serves it. */
const CONTRACT: Array<[string, string]> = [
  ['profiles.schema.json', 'listPatientProfiles'],
  ['profile.schema.json', 'getPatientProfile'],
  ['journey.schema.json', 'getPatientJourney'],
  ['risk-summary.schema.json', 'getRiskSummary'],
  ['opportunities.schema.json', 'listOpportunities'],
  ['engagement-overview.schema.json', 'getEngagementOverview'],
];

const contractFile = (name: string): Schema & { $defs?: Record<string, Schema> } =>
  JSON.parse(readFileSync(resolve(CONTRACT_DIR, name), 'utf8')) as Schema & { $defs?: Record<string, Schema> };
const common = contractFile('common.schema.json');

/** A contract schema with its `common.schema.json#/$defs/...` reference resolved (and the referrer's own keys kept). */
function contractSchema(s: Schema): Schema {
  if (!s.$ref) return s;
  const name = s.$ref.replace('common.schema.json#/$defs/', '');
  const { $ref: _ref, ...rest } = s;
  return { ...common.$defs![name], ...rest };
}

/** A document schema with its $ref or single-$ref allOf resolved (the referrer's `nullable` kept). */
function documentSchema(s: Schema): Schema {
  const ref = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
  if (!ref) return s;
  const target = document.components.schemas[ref.replace('#/components/schemas/', '')];
  return { ...target, nullable: s.nullable ?? target.nullable };
}

const types = (s: Schema): string[] => ([] as string[]).concat(s.type ?? []);

/** Where the document's schema disagrees with the contract's, as readable lines. */
function disagreements(contract: Schema, documented: Schema, at: string): string[] {
  const c = contractSchema(contract);
  const d = documentSchema(documented);
  const out: string[] = [];
  const cTypes = types(c);
  const dType = types(d)[0];
  const nullable = cTypes.includes('null');
  if (nullable !== (d.nullable === true)) out.push(`${at}: the contract says ${nullable ? 'nullable' : 'not nullable'}, the document ${d.nullable ? 'nullable' : 'not nullable'}`);
  const cType = cTypes.find((t) => t !== 'null');
  if (cType && dType && cType !== dType) out.push(`${at}: the contract says ${cType}, the document ${dType}`);
  if (c.enum) {
    const want = JSON.stringify(c.enum.filter((v) => v !== null).map(String).sort());
    const got = JSON.stringify((d.enum ?? []).map(String).sort());
    if (want !== got) out.push(`${at}: the contract's values are ${want}, the document's ${got}`);
  }
  for (const field of c.required ?? []) {
    if (!d.properties?.[field]) out.push(`${at}.${field}: required by the contract, missing from the document`);
    else if (!d.required?.includes(field)) out.push(`${at}.${field}: required by the contract, optional in the document`);
  }
  for (const [field, child] of Object.entries(c.properties ?? {})) {
    if (d.properties?.[field]) out.push(...disagreements(child, d.properties[field], `${at}.${field}`));
  }
  if (c.items && d.items) out.push(...disagreements(c.items, d.items, `${at}[]`));
  return out;
}

describe('openapi.json and the front end contract', () => {
  it.each(CONTRACT)('the documented 200 example of %s validates against it', (schema, operationId) => {
    const example = operation(operationId).responses['200'].content?.['application/json']?.example;
    expect(example).toBeDefined();
    expect(contractErrors(schema, example)).toEqual([]);
  });

  it.each(CONTRACT)('the documented 200 schema declares every field %s requires, with its type', (schema, operationId) => {
    const documented = operation(operationId).responses['200'].content?.['application/json']?.schema;
    expect(documented).toBeDefined();
    expect(disagreements(contractFile(schema), documented!, '$')).toEqual([]);
  });

  it("validates every documented problem example against the contract's problem schema", () => {
    const examples = operations.flatMap((o) =>
      Object.entries(o.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, r]) => ({ at: `${o.operationId} ${status}`, status: Number(status), example: resolved(r).content?.['application/problem+json']?.example })),
    );
    expect(examples.length).toBeGreaterThanOrEqual(80);
    const wrong = examples.flatMap((e) => [
      ...contractErrors('common.schema.json#/$defs/problem', e.example).map((m) => `${e.at}: ${m}`),
      ...((e.example as { status?: number } | undefined)?.status === e.status ? [] : [`${e.at}: example status differs`]),
    ]);
    expect(wrong).toEqual([]);
  });

  it('finds a disagreement when there is one (the comparison can fail)', () => {
    const documented: Schema = { type: 'object', required: ['a'], properties: { a: { type: 'number' }, b: { type: 'string' } } };
    const contract: Schema = { type: 'object', required: ['a', 'b', 'c'], properties: { a: { type: 'integer' }, b: { type: ['string', 'null'] } } };
    expect(disagreements(contract, documented, '$')).toEqual([
      '$.b: required by the contract, optional in the document',
      '$.c: required by the contract, missing from the document',
      '$.a: the contract says integer, the document number',
      '$.b: the contract says nullable, the document not nullable',
    ]);
  });
});
