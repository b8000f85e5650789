import { createPatientJourneyClient, isProblem, iterateAuditEvents, iteratePatientProfiles, ProblemError, unwrap } from '@patient-journey/sdk';
import { Role } from 'src/organizations/organizations.enums';
import { createOrganization, memberToken } from 'test/auth/auth-fixtures';
import { createPatient, upsertMetrics } from 'test/utils/factories';
import { sdkClient } from 'test/utils/sdk';
import { createTestApp, TestApp } from 'test/utils/test-app';

/** The error an async `fn` rejects with; fails the test when it resolves. */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** The SDK's hand-written layer (sdk/src: the token, the problems, the iterators) against the real app over HTTP. */
describe('the SDK against the app', () => {
  let t: TestApp;
  let orgId: string;
  let admin: string;
  let analyst: string;
  const patientIds: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    orgId = (await createOrganization(t.db)).id;
    admin = await memberToken(t, orgId, Role.Admin);
    analyst = await memberToken(t, orgId, Role.Analyst);
    for (let i = 0; i < 7; i++) {
      const id = await createPatient(t.db, t.settings, orgId, { name: `Patient ${i}` });
      await upsertMetrics(t.db, orgId, id);
      patientIds.push(id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('calls a token function before every request (so a front end can refresh it)', async () => {
    const tokens = ['not-a-token', admin];
    const api = createPatientJourneyClient({ baseUrl: await t.url(), token: () => tokens.shift() ?? admin });
    const first = await api.GET('/api/v1/me');
    expect(first.response.status).toBe(401);
    expect(first.error).toMatchObject({ status: 401, type: 'https://patient-journey.dev/problems/unauthorized' });
    const second = await api.GET('/api/v1/me');
    expect(second.response.status).toBe(200);
    expect(second.data?.memberships.map((m) => m.organization_id)).toEqual([orgId]);
  });

  it('gives a 400 as a typed problem naming each bad field', async () => {
    const api = await sdkClient(t, admin);
    const { error, response } = await api.GET('/api/v1/patients/{organizationId}/profile/{patientId}', {
      params: { path: { organizationId: orgId, patientId: 'not-a-uuid' } },
    });
    expect(response.status).toBe(400);
    expect(error?.errors).toEqual([{ in: 'path', field: 'patientId', message: 'patientId must be a UUID' }]);
  });

  it('turns an error answer that is not problem+json (a proxy page, an empty body) into a problem saying so', async () => {
    const proxy = (body: string | null, status: number) => async (): Promise<Response> =>
      new Response(body, { status, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } });
    for (const body of ['<html>502 Bad Gateway</html>', null]) {
      const api = createPatientJourneyClient({ baseUrl: 'http://127.0.0.1:1', token: admin, fetch: proxy(body, 502) });
      const { error, response } = await api.GET('/api/v1/me');
      expect(response.status).toBe(502);
      expect(error).toEqual({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: 'The server answered 502 without a problem+json body' });
      expect(isProblem(error)).toBe(true);
    }
  });

  it('unwrap returns the data, and throws a ProblemError with the typed problem', async () => {
    const api = await sdkClient(t, analyst);
    expect(unwrap(await api.GET('/api/v1/patients/{organizationId}/risk-summary', { params: { path: { organizationId: orgId } } })).total_patients).toBe(7);
    const err = await rejection(async () => unwrap(await api.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: orgId } } })));
    expect(err).toBeInstanceOf(ProblemError);
    expect((err as ProblemError).status).toBe(403);
    expect((err as ProblemError).problem).toMatchObject({ type: 'https://patient-journey.dev/problems/permission-denied', permission: 'patients:read' });
  });

  it('iterates every patient across pages, and stops with a ProblemError when refused', async () => {
    const api = await sdkClient(t, admin);
    const seen: string[] = [];
    for await (const patient of iteratePatientProfiles(api, orgId, { limit: 2 })) seen.push(patient.id);
    expect(seen.sort()).toEqual([...patientIds].sort());
    const refused = await rejection(async () => {
      for await (const _ of iteratePatientProfiles(await sdkClient(t, analyst), orgId)) break;
    });
    expect(refused).toBeInstanceOf(ProblemError);
  });

  it('iterates the audit trail across pages, newest first', async () => {
    const api = await sdkClient(t, admin);
    for (const patientId of patientIds.slice(0, 3)) unwrap(await api.GET('/api/v1/patients/{organizationId}/profile/{patientId}', { params: { path: { organizationId: orgId, patientId } } }));
    const reads: string[] = [];
    for await (const event of iterateAuditEvents(api, orgId, { action: 'read', limit: 1 })) reads.push(event.patient_ids[0]);
    expect(reads).toEqual(patientIds.slice(0, 3).reverse());
  });
});
