import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from 'src/organizations/organizations.enums';
import { bearer, createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient } from 'test/utils/factories';
import { createTestApp, TestApp } from 'test/utils/test-app';

/**
 * Bad input generated from the OpenAPI document (issue #20): for every operation, each parameter and body field
 * given wrong types, out-of-range values, huge strings and unicode edge cases, plus malformed JSON, wrong content
 * types, duplicated and unknown parameters. Every answer is below 500, and every 4xx is problem+json; a 400 caused
 * by one field names it. fast-check draws the cases from arbitraries built from each parameter's schema.
 *
 * In the suite: FUZZ_RUNS (default 300) requests; the long run: `npm run fuzz` (2,000).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20);

interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  $ref?: string;
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

const doc = JSON.parse(readFileSync(join(__dirname, '../../openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};
const resolveRef = (s: Schema): Schema => (s.$ref ? doc.components.schemas[s.$ref.split('/').pop() as string] : s);

/** Strings no field accepts as they are: unicode edge cases, huge, control characters. */
const nastyString = fc.oneof(
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff',
    '\u202e\u0041',
    '💥'.repeat(50),
    'a'.repeat(100_000),
    ' ',
    '%00',
    '../../etc/passwd',
    "' OR 1=1 --",
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
/** Values of the wrong type or out of range for `schema`, as JSON values. */
function wrongValue(schema: Schema): fc.Arbitrary<unknown> {
  const s = resolveRef(schema);
  const options: fc.Arbitrary<unknown>[] = [fc.constant(null), fc.constant({}), fc.constant([]), fc.boolean(), nastyString];
  if (s.type === 'integer' || s.type === 'number') {
    options.push(fc.constantFrom(-1e308, 1e308, 1.5, -0.0001), fc.constant('12abc'));
    if (s.minimum !== undefined) options.push(fc.constant(s.minimum - 1));
    if (s.maximum !== undefined) options.push(fc.constant(s.maximum + 1));
  } else options.push(fc.integer(), fc.double());
  if (s.type === 'string' && s.format === 'uuid') options.push(fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-00000000000g'));
  if (s.enum) options.push(fc.constantFrom('NOT_AN_OPTION', String(s.enum[0]).toUpperCase() + 'x'));
  return fc.oneof(...options);
}
/** URL-encoded (a lone surrogate cannot travel in a URL: it becomes U+FFFD, as a browser would send it). */
const enc = (text: string): string =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
/** The text of a wrong value in a query string or a path segment. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Whether a problem lists its wrong fields by name. */
function namesFields(body: string): boolean {
  const errors = (JSON.parse(body) as { errors?: { field?: unknown }[] }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => typeof e.field === 'string' && e.field.length > 0);
}

interface Case {
  operationId: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** The field that was made wrong, when one was. */
  field: string | null;
}

describe('bad input generated from the OpenAPI document: never a 500, every 4xx a problem naming the field', () => {
  let t: TestApp;
  let org: string;
  let patient: string;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_LIMIT: '1000000', RATE_LIMIT_IP_LIMIT: '1000000' } });
    org = (await createOrganization(t.db)).id;
    patient = await createPatient(t.db, t.settings, org, { name: 'Fuzz Target' });
    token = await memberToken(t, org, Role.Owner);
  });
  afterAll(() => t.close());

  /** A valid value for a path parameter (the organization, a patient, another id). */
  const validPath = (name: string): string =>
    name === 'organizationId' ? org : name === 'patientId' ? patient : '00000000-0000-4000-8000-000000000001';

  const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(() => !path.startsWith('/health'))
      .map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );

  function caseArbitrary(): fc.Arbitrary<Case> {
    return fc.constantFrom(...operations).chain(({ path, method, op }) => {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody ? resolveRef(Object.values(op.requestBody.content)[0].schema) : null;
      const bodyFields = Object.entries(bodySchema?.properties ?? {});
      const urlFor = (pathValues: Record<string, string>, query: string): string =>
        path.replace(/\{(\w+)\}/g, (_, name: string) => enc(pathValues[name] ?? validPath(name))) + (query ? `?${query}` : '');
      const base = { operationId: op.operationId, method, headers: { ...bearer(token) } };
      const kinds: fc.Arbitrary<Case>[] = [
        // An unknown query parameter.
        fc.constant({ ...base, url: urlFor({}, 'unknown_param=1'), field: 'unknown_param' }),
      ];
      for (const p of params.filter((x) => x.in === 'query' || x.in === 'path')) {
        kinds.push(
          wrongValue(p.schema).map((v) => {
            const text = asText(v);
            return p.in === 'path'
              ? { ...base, url: urlFor({ [p.name]: text }, ''), field: p.name }
              : { ...base, url: urlFor({}, `${enc(p.name)}=${enc(text)}`), field: p.name };
          }),
        );
        if (p.in === 'query') {
          // The same parameter twice.
          kinds.push(fc.constant({ ...base, url: urlFor({}, `${p.name}=1&${p.name}=2`), field: p.name }));
        }
      }
      if (bodySchema) {
        const json = { ...base.headers, 'content-type': 'application/json' };
        kinds.push(
          fc
            .constantFrom('{', '{"a":', '[1,2', 'null', '"text"', '{"records": [}', '\u0000')
            .map((payload) => ({ ...base, url: urlFor({}, ''), headers: json, payload, field: null })),
          fc.constantFrom('text/plain', 'application/xml', 'multipart/form-data; boundary=x').map((type) => ({
            ...base,
            url: urlFor({}, ''),
            headers: { ...base.headers, 'content-type': type },
            payload: '{}',
            field: null,
          })),
        );
        for (const [name, schema] of bodyFields) {
          kinds.push(
            wrongValue(schema).map((v) => ({
              ...base,
              url: urlFor({}, ''),
              headers: json,
              payload: JSON.stringify({ [name]: v }),
              field: name,
            })),
          );
        }
      }
      return fc.oneof(...kinds);
    });
  }

  it(`${RUNS} generated requests: no 5xx, every 4xx problem+json, a 400 for one field names it`, async () => {
    const cases = fc.sample(caseArbitrary(), { numRuns: RUNS, seed: SEED });
    expect(cases).toHaveLength(RUNS);
    const bad: { operationId: string; url: string; status: number; body: string }[] = [];
    const notNamed: { operationId: string; field: string; body: string }[] = [];
    const statuses = new Map<number, number>();
    for (const c of cases) {
      const res = await t.inject({
        method: c.method as 'GET',
        url: c.url.slice(0, 20_000),
        headers: c.headers,
        ...(c.payload !== undefined ? { payload: c.payload } : {}),
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const problemJson = /^application\/problem\+json/.test(String(res.headers['content-type']));
      if (res.statusCode >= 500 || (res.statusCode >= 400 && !problemJson))
        bad.push({ operationId: c.operationId, url: c.url.slice(0, 200), status: res.statusCode, body: res.body.slice(0, 300) });
      // A 400 names the wrong field: the one this case made wrong, or (when the request had other faults too, such as
      // a body without its required fields) each field it lists in `errors`.
      if (res.statusCode === 400 && c.field !== null && !res.body.includes(c.field) && !namesFields(res.body)) {
        notNamed.push({ operationId: c.operationId, field: c.field, body: res.body.slice(0, 300) });
      }
    }
    if (process.env.FUZZ_RUNS)
      process.stdout.write(`bad-input run: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`);
    expect(bad).toEqual([]);
    expect(notNamed).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);
    // The run exercised refusals, not only successes.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 4);
  }, 600_000);
});
