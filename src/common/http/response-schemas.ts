import type { OpenAPIObject } from '@nestjs/swagger';

/**
 * The operations whose success answers Fastify serializes with a serializer compiled by fast-json-stringify from
 * their response schema (Fastify's own route `schema.response`), instead of JSON.stringify: the read routes asked
 * again and again (docs/performance.md). The schema is the one the OpenAPI document publishes for the operation's
 * 200 answer (built from the response DTO), so what is sent is what is documented: a property the DTO does not
 * declare is not sent, and a declared required property missing from the answer fails the request (500) instead of
 * leaving silently. The contract e2e tests validate these answers against the vendored contract as before.
 *
 * The schemas are written beside this file (`compiled-response-schemas.json`) by `npm run openapi:write` from the same document
 * as openapi.json (and checked by `npm run openapi:check`): the document needs the Swagger CLI plugin's metadata,
 * which only the build has (not Jest, not the benchmarks' plain tsc), so the app reads the written file.
 */
export const COMPILED_RESPONSE_OPERATIONS: readonly string[] = [
  // Not the patient list: measured in the app under the read benchmark (docs/performance.md), fast-json-stringify
  // spent 1.8 times what JSON.stringify does on a page of 100 rows (its escaping of ~1,300 short strings runs in
  // JavaScript; V8's JSON.stringify does it natively), although a hot loop (bench/serialize-bench.ts) says otherwise.
  'getPatientProfile',
  'getPatientJourney',
  'listOpportunities',
  'getRiskSummary',
];

type JsonSchema = Record<string, unknown>;

/** `/api/v1/patients/{organizationId}/profiles` → `/api/v1/patients/:organizationId/profiles` (Fastify's form). */
const fastifyPath = (openApiPath: string): string => openApiPath.replace(/\{([^}]+)\}/g, ':$1');

/** The key of a route in the map `responseSchemas` returns. */
export const routeKey = (method: string, url: string): string => `${method.toUpperCase()} ${url}`;

/**
 * The 200 response schemas of `operationIds` in `document`, self-contained (component references resolved in place,
 * a single-member `allOf` merged into its owner, OpenAPI's `nullable` kept: fast-json-stringify reads it), keyed by
 * `routeKey(method, Fastify path)`. Examples are left out (they are documentation, not serialization).
 */
export function responseSchemas(document: Pick<OpenAPIObject, 'paths' | 'components'>, operationIds: readonly string[]): Record<string, JsonSchema> {
  const components = (document.components?.schemas ?? {}) as Record<string, JsonSchema>;
  const wanted = new Set(operationIds);
  const out: Record<string, JsonSchema> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, { operationId?: string; responses?: Record<string, unknown> }>)) {
      if (!op?.operationId || !wanted.has(op.operationId)) continue;
      const ok = op.responses?.['200'] as { content?: Record<string, { schema?: JsonSchema }> } | undefined;
      const schema = ok?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`Operation ${op.operationId} has no application/json schema for its 200 answer`);
      out[routeKey(method, fastifyPath(path))] = resolve(schema, components, []);
      wanted.delete(op.operationId);
    }
  }
  if (wanted.size > 0) throw new Error(`No such operations in the OpenAPI document: ${[...wanted].join(', ')}`);
  return out;
}

function resolve(schema: unknown, components: Record<string, JsonSchema>, trail: string[]): JsonSchema {
  if (Array.isArray(schema)) return schema.map((s) => resolve(s, components, trail)) as unknown as JsonSchema;
  if (schema === null || typeof schema !== 'object') return schema as JsonSchema;
  const s = schema as JsonSchema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/components/schemas/', '');
    if (trail.includes(name)) throw new Error(`Recursive schema ${name}: not compiled`);
    const target = components[name];
    if (!target) throw new Error(`Unknown schema ${s.$ref}`);
    const { $ref: _ref, ...rest } = s;
    return { ...resolve(target, components, [...trail, name]), ...resolve(rest, components, trail) };
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'example' || k === 'examples') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as JsonSchema).map(([p, ps]) => [p, resolve(ps, components, trail)])) : resolve(v, components, trail);
  }
  if (Array.isArray(out.allOf) && out.allOf.length === 1) {
    const { allOf, ...own } = out;
    return { ...(allOf as JsonSchema[])[0], ...own };
  }
  return out;
}
