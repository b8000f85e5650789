import { RouteSchema } from '@nestjs/platform-fastify';
import Ajv from 'ajv';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';

/**
 * Path and query of the hot read routes checked by Fastify's own route validation (`schema.params` and
 * `schema.querystring` given with `@ValidatedBySchema`, compiled by Ajv when the route is registered) instead of the global ValidationPipe's
 * class-transformer + class-validator run on every request (docs/performance.md, "The request path").
 *
 * Each schema accepts nothing its DTO would refuse (request-schemas.spec.ts runs both over the same inputs),
 * and converts the numbers as the DTO's `@Type(() => Number)` does. A part the schema accepts reaches the handler
 * without class-validator (ProblemValidationPipe sees it marked); a part it refuses is NOT answered from Ajv's
 * error: the route runs with `attachValidation`, the part stays unmarked, and the pipe validates it with class-validator
 * as before, so every 400 problem, its fields and its messages are the DTO's, by construction. (A schema stricter than
 * its DTO only sends that request down the slower path.)
 */
type JsonSchema = Record<string, unknown>;

/** validator.js's `isUUID(value, 'all')` (what `@IsUuidParam()` checks), as a JSON-schema pattern. */
const UUID_ALL =
  '^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|[fF]{8}-[fF]{4}-[fF]{4}-[fF]{4}-[fF]{12})$';
export const uuid = { type: 'string', pattern: UUID_ALL };
/** The property schemas `integer` made (numbers the pipe converts from their plain digits). */
const NUMBERS = new WeakSet<object>();

/**
 * A whole number of the query, from `minimum` to `maximum`, written plainly (decimal digits, no sign, no leading
 * zero): a string pattern, the pipe converting it with Number() as the DTO's `@Type(() => Number)` does. Not Ajv's
 * `type: integer` with `coerceTypes`: Ajv 8.20 coerces "Infinity" and "-Infinity" and then passes them whatever the
 * minimum and maximum (request-schemas.spec.ts has the case); any other spelling ("1e2", " 7", "007") takes the class-validator
 * path.
 */
export function integer(minimum: 0 | 1, maximum: number): JsonSchema {
  const max = String(maximum);
  if (!/^10*$|^50*$/.test(max)) throw new Error(`integer(): ${maximum} is not 10^n or 5*10^n`);
  const digits = max.length - 1;
  // Up to `max`: fewer digits than max (no leading zero), or as many digits and at most max (1 followed by zeros: only
  // max itself; 5 followed by zeros: 1-4 then any digits, or max itself).
  const shorter = digits > 0 ? `[1-9][0-9]{0,${digits - 1}}` : null;
  const same = max[0] === '1' ? max : digits > 0 ? `[1-4][0-9]{${digits}}|${max}` : '[1-5]';
  const alternatives = [minimum === 0 ? '0' : null, shorter, same].filter((x) => x !== null);
  const schema = { type: 'string', pattern: `^(?:${alternatives.join('|')})$` };
  NUMBERS.add(schema);
  return schema;
}
export const oneOf = (values: readonly string[]): JsonSchema => ({ type: 'string', enum: [...values] });
const object = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({ type: 'object', properties, required, additionalProperties: false });

/** A DTO class and the schema that stands for it. */
export interface PartSchema {
  dto: Function;
  schema: JsonSchema;
}

/** The properties of a part schema that are numbers (converted from their plain digits by the pipe). */
export function numberProperties(schema: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return Object.keys(properties).filter((k) => NUMBERS.has(properties[k]));
}

interface Validated {
  dto: Function;
  numbers: string[];
}

/** Request parts a route schema accepted, with the DTO class the schema stands for. */
const validated = new WeakMap<object, Validated>();

/** The DTO class `value` was validated as by its route's schema, if it was. */
export function schemaValidatedAs(value: unknown): Function | undefined {
  return value !== null && typeof value === 'object' ? validated.get(value)?.dto : undefined;
}

/**
 * `value` (validated by its route's schema as `dto`) as the DTO's instance, as class-transformer makes it: its own
 * properties copied, its numbers converted (`@Type(() => Number)`).
 */
export function toValidatedInstance(value: object): object | undefined {
  const v = validated.get(value);
  if (!v) return undefined;
  const out = Object.assign(new (v.dto as new () => object)(), value) as Record<string, unknown>;
  for (const k of v.numbers) if (typeof out[k] === 'string') out[k] = Number(out[k]);
  return out;
}

/**
 * Ajv for these request parts: unlike Fastify's default, no type coercion (numbers are checked as digits, see
 * `integer`), an unknown property refused rather than silently removed (`removeAdditional: false`) and no default
 * filled in (the services apply the defaults, as with class-validator).
 */
export function createAjv(): Ajv {
  return new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false });
}

/**
 * Sets up `fastify` (before the routes are registered) for the `@ValidatedBySchema` routes: this module's validator
 * compiler, and `attachValidation` on every route with a path or query schema, so that a refusal is left to the pipe.
 * Without it, Fastify's default Ajv would remove unknown parameters silently and answer refusals itself.
 */
export function installRequestValidation(fastify: FastifyInstance): void {
  fastify.setValidatorCompiler(requestValidatorCompiler());
  fastify.addHook('onRoute', (route) => {
    if (route.schema?.params || route.schema?.querystring) route.attachValidation = true;
  });
}

const dtoOfSchema = new WeakMap<object, Validated>();

/**
 * The schema standing for `dto` (a path or query DTO): an object of `properties` (each accepting nothing the DTO's
 * decorators refuse), nothing else allowed (forbidNonWhitelisted: an unknown parameter goes to class-validator, which
 * names it).
 */
export function partSchema(dto: Function, properties: Record<string, JsonSchema>, required: string[] = []): PartSchema {
  const schema = object(properties, required);
  dtoOfSchema.set(schema, { dto, numbers: numberProperties(schema) });
  return { dto, schema };
}

/** Every route declaring a schema, by handler (the spec walks them). */
export const SCHEMA_ROUTES = new Map<Function, { params: PartSchema; querystring?: PartSchema }>();

/**
 * A route's path (and query) validated by Fastify with these schemas (Nest's `@RouteSchema`); createApp runs such
 * routes with `attachValidation`, so a refusal is answered by the pipe's class-validator, never by Fastify.
 */
export function ValidatedBySchema(params: PartSchema, querystring?: PartSchema): MethodDecorator {
  const route = RouteSchema({ params: params.schema, ...(querystring ? { querystring: querystring.schema } : {}) });
  return (target, key, descriptor) => {
    SCHEMA_ROUTES.set(descriptor.value as Function, { params, querystring });
    return route(target, key, descriptor);
  };
}

/**
 * Fastify's validator compiler for these schemas: Ajv's compiled check, which on success marks the request part as
 * validated for ProblemValidationPipe. A refusal is an error Fastify attaches to the request (the routes run with
 * `attachValidation`); nothing answers from it.
 */
export function requestValidatorCompiler(ajv: Ajv = createAjv()): FastifySchemaCompiler<JsonSchema> {
  return ({ schema }) => {
    const check = ajv.compile(schema);
    const dto = dtoOfSchema.get(schema);
    return (data: unknown) => {
      if (!check(data)) return { error: new Error('schema refused the request part (class-validator answers)') };
      if (dto && data !== null && typeof data === 'object') validated.set(data, dto);
      return true;
    };
  };
}
