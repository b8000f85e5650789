import { randomUUID } from 'node:crypto';
import type { Response } from 'light-my-request';
import { Permission, ROLE_PERMISSIONS } from 'src/auth/permissions';
import { Role } from 'src/organizations/organizations.enums';
import { createTestApp, TestApp } from 'test/utils/test-app';
import { bearer, createMember, createOrganization, tokenFor } from 'test/auth/auth-fixtures';
import { describeRoute, discoverRoutes, DiscoveredRoute } from 'test/auth/route-discovery';

/**
 * The access matrix, generated over every route the app has at test time × every kind of caller:
 * no token, malformed, expired, wrong signature → 401; member of another organization, member without the
 * permission → 403; member with it → an answer of the route itself (2xx, or a 4xx about the request such as 400 or
 * 404), never 401, 403 nor a 5xx. No denied answer carries patient data. Every call is made once, in beforeAll
 * (denials first: allowed calls may change data); each test reads the outcomes it is about.
 */

const ROLES = Object.values(Role);
const PATIENT_NAME = 'Zebulon Quartermaine';
const PATIENT_EXTERNAL_ID = 'MATRIX-PATIENT-7731';
const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'instance', 'errors', 'permission'];

interface Outcome {
  route: string;
  caller: string;
  status: number;
  body: string;
  contentType: string;
}

describe('access matrix over every route', () => {
  let t: TestApp;
  let routes: DiscoveredRoute[];
  let orgA: string;
  let patientId: string;
  let foreignPatientId: string;
  const tokens = {} as Record<Role, string>;
  let otherOrgOwner: string;
  let ownerId: string;
  const outcomes: Outcome[] = [];
  const denied: Outcome[] = [];
  const NO_CREDENTIALS = ['no token', 'malformed token', 'expired token', 'wrong signature'];
  const OTHER_ORG = 'owner of another organization';

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_IP_LIMIT: '1000000', RATE_LIMIT_LIMIT: '1000000' } });
    routes = discoverRoutes(t.app).filter((r) => !r.access.isPublic);
    orgA = (await createOrganization(t.db, { slug: 'matrix-a' })).id;
    const orgB = (await createOrganization(t.db, { slug: 'matrix-b' })).id;
    const [p] = await t.db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', $2, $3) RETURNING id`,
      [orgA, PATIENT_EXTERNAL_ID, PATIENT_NAME],
    );
    patientId = p.id;
    await t.db.query(
      `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level) VALUES ($1, $2, lower($3), 'at_risk', 'high')`,
      [orgA, patientId, PATIENT_NAME],
    );
    for (const role of ROLES) {
      const { userId } = await createMember(t.db, orgA, role);
      tokens[role] = tokenFor(t.settings, userId);
      if (role === Role.Owner) ownerId = userId;
    }
    otherOrgOwner = tokenFor(t.settings, (await createMember(t.db, orgB, Role.Owner)).userId);
    const [q] = await t.db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) VALUES ($1, 'test', 'OTHER-ORG-PATIENT-5521', 'Octavia Outsider') RETURNING id`,
      [orgB],
    );
    foreignPatientId = q.id;
    await t.db.query(
      `INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_level) VALUES ($1, $2, 'octavia outsider', 'at_risk', 'high')`,
      [orgB, foreignPatientId],
    );

    const credentials: Record<string, Record<string, string>> = {
      'no token': {},
      'malformed token': { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.not-json.x' },
      'expired token': bearer(tokenFor(t.settings, ownerId, { expiresIn: -60 })),
      'wrong signature': bearer(tokenFor({ ...t.settings, jwt: { ...t.settings.jwt, secret: 'x'.repeat(48) } }, ownerId)),
    };
    for (const route of routes) {
      for (const [caller, headers] of Object.entries(credentials)) await call(route, caller, headers);
      if (route.access.permission !== null) await call(route, OTHER_ORG, bearer(otherOrgOwner));
    }
    for (const route of routes) {
      // Allowed calls may change data (revoke, erase): the denials run first, then the grants.
      const byRole = [...ROLES].sort((a, b) => Number(allows(a, route)) - Number(allows(b, route)));
      for (const role of byRole) await call(route, role, bearer(tokens[role]));
    }
  }, 180_000);
  afterAll(async () => {
    await t.close();
  });

  function url(route: DiscoveredRoute, patient = patientId): string {
    return route.path.replace(/:(\w+)/g, (_m, name: string) => {
      if (name === 'organizationId') return orgA;
      if (name === 'patientId') return patient;
      return name.endsWith('Id') ? randomUUID() : 'x';
    });
  }

  async function call(route: DiscoveredRoute, caller: string, headers: Record<string, string>): Promise<Outcome> {
    const withBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
    const res: Response = await t.inject({ method: route.method, url: url(route), headers, ...(withBody ? { payload: {} } : {}) });
    const outcome = { route: describeRoute(route), caller, status: res.statusCode, body: res.body, contentType: String(res.headers['content-type'] ?? '') };
    outcomes.push(outcome);
    if (res.statusCode === 401 || res.statusCode === 403) denied.push(outcome);
    return outcome;
  }

  const allows = (role: Role, route: DiscoveredRoute): boolean => route.access.permission === null || ROLE_PERMISSIONS[role].includes(route.access.permission);

  const summary = (o: Outcome): string => `${o.route} as ${o.caller}: ${o.status}`;
  const callsBy = (callers: string[]): Outcome[] => outcomes.filter((o) => callers.includes(o.caller));

  it('discovers the routes to check, and called each once per caller', () => {
    if (process.env.PRINT_ROUTES) process.stderr.write(routes.map((r) => `${describeRoute(r)}  ${r.access.permission ?? 'authenticated'}`).join('\n') + '\n');
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const withPermission = routes.filter((r) => r.access.permission !== null).length;
    expect(outcomes).toHaveLength(routes.length * (NO_CREDENTIALS.length + ROLES.length) + withPermission);
  });

  it('answers 401 without valid credentials: none, malformed, expired, wrong signature', () => {
    const calls = callsBy(NO_CREDENTIALS);
    expect(calls).toHaveLength(routes.length * NO_CREDENTIALS.length);
    expect(calls.filter((o) => o.status !== 401).map(summary)).toEqual([]);
  });

  it('answers 403 to a member of another organization, with the same body as for a missing organization', () => {
    const calls = callsBy([OTHER_ORG]);
    expect(calls).toHaveLength(routes.filter((r) => r.access.permission !== null).length);
    expect(calls.filter((o) => o.status !== 403 || !o.body.includes('/organization-access-denied')).map(summary)).toEqual([]);
  });

  it('lets each role in exactly where its permissions include the route permission (in: an answer of the route, never a 5xx)', () => {
    const wrong: string[] = [];
    const checked = new Set<Permission>();
    let allowedCalls = 0;
    for (const route of routes) {
      const permission = route.access.permission;
      for (const role of ROLES) {
        const [o] = outcomes.filter((x) => x.caller === role && x.route === describeRoute(route));
        if (allows(role, route)) {
          allowedCalls++;
          // In: what the route itself answers (200, 201, 204, or 400/404/409 about this request's body or ids).
          if (o.status === 401 || o.status === 403 || o.status >= 500) wrong.push(`${summary(o)} (expected the route's own answer)`);
        } else {
          const denied403 = o.status === 403 && o.body.includes('/permission-denied') && permission !== null && o.body.includes(permission);
          if (!denied403) wrong.push(`${summary(o)} (expected 403 naming the permission)`);
        }
      }
      if (permission) checked.add(permission);
    }
    expect(wrong).toEqual([]);
    expect(allowedCalls).toBeGreaterThan(routes.length);
    expect(checked.size).toBeGreaterThanOrEqual(5);
  });

  it("answers a patient id of another organization exactly as one that does not exist (404, nothing of it)", async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => r.path.includes(':patientId') && r.access.permission !== null)) {
      const withBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
      const ask = (patient: string) =>
        t.inject({ method: route.method, url: url(route, patient), headers: bearer(tokens[Role.Owner]), ...(withBody ? { payload: {} } : {}) });
      const foreign = await ask(foreignPatientId);
      const missing = await ask(randomUUID());
      const type = (r: Response): unknown => (r.headers['content-type']?.toString().includes('json') ? r.json().type : undefined);
      if (foreign.statusCode !== missing.statusCode || type(foreign) !== type(missing) || foreign.statusCode < 400) {
        wrong.push(`${describeRoute(route)}: foreign ${foreign.statusCode} vs missing ${missing.statusCode}`);
      }
      if (foreign.body.includes('Octavia') || foreign.body.includes('OTHER-ORG-PATIENT-5521')) wrong.push(`${describeRoute(route)}: leaks the other organization's patient`);
    }
    expect(wrong).toEqual([]);
  });

  it('gives the analyst the aggregates and nothing patient-level', () => {
    const patientLevel = routes.filter((r) => r.access.permission !== null && r.access.permission !== Permission.AnalyticsRead);
    const analystDenied = new Set(denied.filter((o) => o.caller === Role.Analyst).map((o) => o.route));
    expect(patientLevel.map(describeRoute).filter((r) => !analystDenied.has(r))).toEqual([]);
    const aggregates = routes.filter((r) => r.access.permission === Permission.AnalyticsRead).map(describeRoute);
    expect(aggregates.filter((r) => analystDenied.has(r))).toEqual([]);
  });

  it('never puts patient data in a denied answer', () => {
    expect(denied.length).toBeGreaterThan(routes.length * 4);
    const leaks = denied.filter((o) => o.body.includes(PATIENT_NAME.split(' ')[0]) || o.body.includes(PATIENT_NAME.split(' ')[1]) || o.body.includes(PATIENT_EXTERNAL_ID));
    expect(leaks.map(summary)).toEqual([]);
    const notProblems = denied.filter((o) => {
      if (!o.contentType.includes('application/problem+json')) return true;
      const body = JSON.parse(o.body) as Record<string, unknown>;
      return Object.keys(body).some((k) => !PROBLEM_KEYS.includes(k));
    });
    expect(notProblems.map(summary)).toEqual([]);
  });
});
