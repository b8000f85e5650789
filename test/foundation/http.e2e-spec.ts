import { createTestApp, TestApp } from 'test/utils/test-app';

describe('HTTP foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers liveness without the database and readiness with it', async () => {
    const live = await t.inject({ method: 'GET', url: '/health' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await t.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().info.database.status).toBe('up');
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.inject({ method: 'GET', url: '/api/v1/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 404, title: 'Not found', type: expect.stringContaining('/not-found') });
    expect(res.json().detail).toContain('/api/v1/nowhere');
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const res = await t.inject({ method: 'DELETE', url: '/health' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET');
    expect(res.json().type).toContain('/method-not-allowed');
  });

  it('echoes a caller request id and generates one otherwise', async () => {
    const given = await t.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await t.inject({ method: 'GET', url: '/health' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await t.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets security headers on every response, problems and unknown routes included', async () => {
    for (const url of ['/health', '/api/v1/me', '/no-such-route']) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('forbids storing any API answer (no-store), and leaves the documentation and health checks cacheable', async () => {
    // Answers are one caller's authorized data, most of it PHI: no browser or proxy cache may keep them.
    for (const url of ['/api/v1/nowhere', '/api/v1/me']) {
      const res = await t.inject({ method: 'GET', url });
      expect([url, res.headers['cache-control']]).toEqual([url, 'no-store']);
    }
    for (const url of ['/api/docs-json', '/health']) {
      const res = await t.inject({ method: 'GET', url });
      expect([url, res.statusCode, res.headers['cache-control']]).toEqual([url, 200, undefined]);
    }
  });

  it('serves the OpenAPI document with a bearer scheme, and Swagger UI', async () => {
    const doc = await t.inject({ method: 'GET', url: '/api/docs-json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ui = await t.inject({ method: 'GET', url: '/api/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});

describe('request bodies', () => {
  let t: TestApp;
  const url = '/api/v1/organizations/00000000-0000-4000-8000-000000000000/api-keys';
  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers malformed JSON with a 400 problem', async () => {
    const res = await t.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 400, type: expect.stringContaining('/malformed-json'), detail: 'The request body is not valid JSON' });
  });

  it('answers a body over the limit with a 413 problem', async () => {
    const res = await t.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(5000) }) });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ status: 413, type: expect.stringContaining('/payload-too-large') });
  });

  it('answers an unsupported content type with a 415 problem', async () => {
    const res = await t.inject({ method: 'POST', url, headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
    expect(res.statusCode).toBe(415);
    expect(res.json().type).toContain('/unsupported-media-type');
  });
});

describe('readiness without a database', () => {
  it('answers /health/ready with a 503 problem when the database is gone, /health still 200', async () => {
    const t = await createTestApp();
    try {
      await t.db.drop();
      const ready = await t.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.headers['content-type']).toContain('application/problem+json');
      expect(ready.json()).toMatchObject({ status: 503, type: expect.stringContaining('/service-unavailable') });
      const live = await t.inject({ method: 'GET', url: '/health' });
      expect(live.statusCode).toBe(200);
    } finally {
      await t.app.close();
    }
  });
});
