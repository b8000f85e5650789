import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from 'src/app.factory';
import { Permission } from 'src/auth/permissions';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { describeRoute, discoverRoutes, DiscoveredRoute } from 'test/auth/route-discovery';

/** The only routes reachable without a token. Adding one is a security decision: add it here on purpose. */
const PUBLIC_ROUTES = ['GET /health', 'GET /health/ready'];

/** A route that requires one of these permissions reads or changes patient data, whatever it answers. */
const PATIENT_DATA_PERMISSIONS: readonly Permission[] = [
  Permission.PatientsRead,
  Permission.PatientsReadMedical,
  Permission.JourneyRead,
  Permission.OpportunitiesRead,
  Permission.DataWrite,
  Permission.PrivacyManage,
];

/** A success answer whose schema reaches one of these properties carries a patient's data. */
const PATIENT_PROPERTIES = new Set(['patient', 'patients', 'patient_id', 'patient_name']);

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: Schema | boolean;
}
interface Response {
  $ref?: string;
  content?: Record<string, { schema?: Schema; example?: unknown }>;
}
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  'x-permission'?: string;
  responses: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Response> };
  tags: { name: string }[];
}

/** The committed document, as the build (with the Swagger CLI plugin) writes it and openapi:check keeps it. */
const committed = JSON.parse(readFileSync(resolve(__dirname, '../../openapi.json'), 'utf8')) as Document;

/** A response, or the shared one (`components.responses`) it refers to. */
const resolved = (response: Response): Response =>
  response.$ref ? committed.components.responses[response.$ref.replace('#/components/responses/', '')] : response;

const operations = (document: Document): Array<{ key: string; op: Operation }> =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op })),
  );

/** The property names a schema reaches, through $refs, arrays and compositions. */
function propertyNames(document: Document, schema: Schema | undefined, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  const visit = (s: Schema | boolean | undefined): void => {
    if (!s || typeof s !== 'object') return;
    if (s.$ref) {
      if (seen.has(s.$ref)) return;
      seen.add(s.$ref);
      return visit(document.components.schemas[s.$ref.replace('#/components/schemas/', '')]);
    }
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      names.add(name);
      visit(child);
    }
    visit(s.items);
    visit(s.additionalProperties);
    for (const child of [...(s.allOf ?? []), ...(s.oneOf ?? [])]) visit(child);
  };
  visit(schema);
  return names;
}

describe('every route declares its access, its audit and its documentation', () => {
  let t: TestApp;
  let routes: DiscoveredRoute[];
  beforeAll(async () => {
    t = await createTestApp();
    routes = discoverRoutes(t.app);
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds the routes of the app (discovery works)', () => {
    const found = routes.map(describeRoute);
    expect(found).toEqual(expect.arrayContaining(['GET /api/v1/me', 'GET /health', 'POST /api/v1/organizations/:organizationId/api-keys']));
    expect(routes.length).toBe(operations(committed).length);
  });

  it('declares exactly one of: public, authenticated only, or a permission', () => {
    const undeclared = routes.filter(
      (r) => [r.access.isPublic, r.access.authenticatedOnly, r.access.permission !== null].filter(Boolean).length !== 1,
    );
    expect(undeclared.map(describeRoute)).toEqual([]);
  });

  it('keeps public routes to the reviewed list', () => {
    expect(
      routes
        .filter((r) => r.access.isPublic)
        .map(describeRoute)
        .sort(),
    ).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('puts :organizationId in the path of every route that requires a permission', () => {
    const missing = routes.filter((r) => r.access.permission !== null && !r.path.includes('/:organizationId'));
    expect(missing.map(describeRoute)).toEqual([]);
  });

  it('audits every route whose permission is about patient data', () => {
    const patientRoutes = routes.filter((r) => r.access.permission !== null && PATIENT_DATA_PERMISSIONS.includes(r.access.permission));
    expect(patientRoutes.length).toBeGreaterThanOrEqual(4);
    expect(patientRoutes.filter((r) => !r.audit).map(describeRoute)).toEqual([]);
  });

  it("audits every route whose documented answer carries a patient's data", () => {
    const byKey = new Map(routes.map((r) => [describeRoute(r).replace(/^(\w+) /, '$1 '), r]));
    const carrying = operations(committed).filter(({ op }) => {
      const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'))?.[1];
      const names = propertyNames(committed, success?.content?.['application/json']?.schema);
      return [...PATIENT_PROPERTIES].some((p) => names.has(p));
    });
    expect(carrying.map((c) => c.key).sort()).toEqual([
      // Counts named `patients` (rows of a de-identified export, no patient's data); audited all the same.
      'GET /api/v1/analytics/:organizationId/deidentified-exports/:jobId',
      'GET /api/v1/analytics/:organizationId/deidentified-exports/:jobId/report',
      'GET /api/v1/patients/:organizationId/journey/:patientId',
      'GET /api/v1/patients/:organizationId/opportunities',
      'GET /api/v1/patients/:organizationId/profile/:patientId',
      'GET /api/v1/patients/:organizationId/profile/:patientId/consents',
      'GET /api/v1/patients/:organizationId/profiles',
      'POST /api/v1/analytics/:organizationId/deidentified-exports',
      'POST /api/v1/patients/:organizationId/profile/:patientId/consents',
      // The erasure's receipt names the erased patient (an id, no data of theirs).
      'POST /api/v1/patients/:organizationId/profile/:patientId/erasure',
    ]);
    expect(carrying.filter((c) => !byKey.get(c.key)?.audit).map((c) => c.key)).toEqual([]);
  });

  it('documents every route with @Endpoint: a unique camelCase operationId starting with a verb, a summary and a description', () => {
    const undocumented = routes.filter(
      (r) => !/^[a-z]+[A-Z][A-Za-z]*$/.test(r.operation?.operationId ?? '') || !r.operation?.summary || !r.operation.description,
    );
    expect(undocumented.map(describeRoute)).toEqual([]);
    const ids = routes.map((r) => r.operation?.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names each handler after its operationId, so that a stack trace or a log names the operation', () => {
    expect(
      routes.filter((r) => r.handler !== r.operation?.operationId).map((r) => `${describeRoute(r)} (${r.controller}.${r.handler})`),
    ).toEqual([]);
  });

  it('gets the committed operations from @Endpoint alone (no JSDoc on a handler competes through the Swagger plugin)', () => {
    // Jest runs without the Swagger CLI plugin; the build runs with it. Equal operation texts mean the plugin added none.
    const pick = (d: Document): string[] =>
      operations(d).map(({ key, op }) =>
        JSON.stringify([key, op.operationId, op.summary, op.description, op.tags, op.security, Object.keys(op.responses)]),
      );
    const inProcess = JSON.parse(JSON.stringify(buildOpenApiDocument(t.app))) as Document;
    expect(pick(inProcess).sort()).toEqual(pick(committed).sort());
  });
});

describe('openapi.json documents every operation fully', () => {
  const all = operations(committed);

  it('gives every operation a defined tag, and states the permission in the description of those that need one', () => {
    const tags = new Set(committed.tags.map((tag) => tag.name));
    expect(all.filter(({ op }) => op.tags?.length !== 1 || !tags.has(op.tags[0])).map((o) => o.key)).toEqual([]);
    const withPermission = all.filter(({ op }) => op['x-permission']);
    expect(withPermission.length).toBeGreaterThanOrEqual(18);
    expect(withPermission.filter(({ op }) => !op.description?.includes(`\`${op['x-permission']}\``)).map((o) => o.key)).toEqual([]);
  });

  it('gives every success answer a schema and an example, and every problem answer the Problem schema and an example', () => {
    const missing: string[] = [];
    for (const { key, op } of all) {
      for (const [status, reference] of Object.entries(op.responses)) {
        if (status === '204') continue;
        const response = resolved(reference);
        const mediaType = Number(status) < 400 ? 'application/json' : 'application/problem+json';
        // A success answer of another media type only (a file download: application/fhir+ndjson) is checked in its own.
        const content = response.content?.[mediaType] ?? (Number(status) < 400 ? Object.values(response.content ?? {})[0] : undefined);
        if (!content?.schema || content.example === undefined) missing.push(`${key} ${status}`);
        if (Number(status) >= 400 && content?.schema?.$ref !== '#/components/schemas/Problem')
          missing.push(`${key} ${status}: not the Problem schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents 401 and 429 for every guarded operation, and 400 and 403 for every one in an organization', () => {
    const missing = all.flatMap(({ key, op }) => {
      const expected = op['x-permission'] ? ['400', '401', '403', '429'] : op.security?.length ? ['401', '429'] : ['429'];
      return expected.filter((s) => !op.responses[s]).map((s) => `${key} ${s}`);
    });
    expect(missing).toEqual([]);
  });
});
