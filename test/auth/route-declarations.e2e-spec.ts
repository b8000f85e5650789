import { createTestApp, TestApp } from 'test/utils/test-app';
import { describeRoute, discoverRoutes, DiscoveredRoute } from 'test/auth/route-discovery';

/** The only routes reachable without a token. Adding one is a security decision: add it here on purpose. */
const PUBLIC_ROUTES = ['GET /health', 'GET /health/ready'];

describe('every route declares its access', () => {
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
  });

  it('declares exactly one of: public, authenticated only, or a permission', () => {
    const undeclared = routes.filter((r) => [r.access.isPublic, r.access.authenticatedOnly, r.access.permission !== null].filter(Boolean).length !== 1);
    expect(undeclared.map(describeRoute)).toEqual([]);
  });

  it('keeps public routes to the reviewed list', () => {
    expect(routes.filter((r) => r.access.isPublic).map(describeRoute).sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it('puts :organizationId in the path of every route that requires a permission', () => {
    const missing = routes.filter((r) => r.access.permission !== null && !r.path.includes('/:organizationId'));
    expect(missing.map(describeRoute)).toEqual([]);
  });
});
