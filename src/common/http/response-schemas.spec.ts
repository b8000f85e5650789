import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import { COMPILED_RESPONSE_OPERATIONS, responseSchemas } from 'src/common/http/response-schemas';
import COMPILED_RESPONSE_SCHEMAS from 'src/common/http/compiled-response-schemas.json';

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, { example?: unknown }> }> };
const document = JSON.parse(readFileSync(resolve(__dirname, '../../../openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

/**
 * The hot routes' compiled response schemas (src/common/http/response-schemas.ts): the committed file is what
 * openapi.json gives (`npm run openapi:check` compares both with the build), and Fastify's compiled serializer sends
 * each operation's documented example unchanged: no property dropped, renamed or retyped.
 */
describe('compiled response schemas', () => {
  it('are the 200 schemas of the hot operations in the committed openapi.json, references resolved', () => {
    const fromDocument = responseSchemas(document as never, COMPILED_RESPONSE_OPERATIONS);
    expect(JSON.parse(JSON.stringify(fromDocument))).toEqual(COMPILED_RESPONSE_SCHEMAS);
    expect(Object.keys(COMPILED_RESPONSE_SCHEMAS).sort()).toEqual([
      'GET /api/v1/patients/:organizationId/journey/:patientId',
      'GET /api/v1/patients/:organizationId/opportunities',
      'GET /api/v1/patients/:organizationId/profile/:patientId',
      'GET /api/v1/patients/:organizationId/risk-summary',
    ]);
    expect(JSON.stringify(COMPILED_RESPONSE_SCHEMAS)).not.toContain('$ref');
  });

  it("serialize each operation's documented example to the same JSON as JSON.stringify (through Fastify)", async () => {
    const app = Fastify();
    const examples: { url: string; example: unknown }[] = [];
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const op of Object.values(ops)) {
        if (!COMPILED_RESPONSE_OPERATIONS.includes(op.operationId)) continue;
        const url = path.replace(/\{([^}]+)\}/g, ':$1');
        const example = op.responses['200'].content?.['application/json']?.example;
        const schema = (COMPILED_RESPONSE_SCHEMAS as Record<string, object>)[`GET ${url}`];
        app.get(url, { schema: { response: { 200: schema } } }, async () => example);
        examples.push({ url: url.replace(/:[A-Za-z]+/g, '00000000-0000-4000-8000-000000000000'), example });
      }
    }
    expect(examples).toHaveLength(COMPILED_RESPONSE_OPERATIONS.length);
    // A property the schema does not declare is not sent (what is sent is what is documented).
    app.get('/extra', { schema: { response: { 200: (COMPILED_RESPONSE_SCHEMAS as Record<string, object>)['GET /api/v1/patients/:organizationId/risk-summary'] } } }, async () => ({
      ...(examples.find((e) => e.url.endsWith('risk-summary'))?.example as object),
      secret: 'x',
    }));
    for (const { url, example } of examples) {
      expect(example).toBeDefined();
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(example);
    }
    expect((await app.inject({ method: 'GET', url: '/extra' })).json()).not.toHaveProperty('secret');
    await app.close();
  });
});
