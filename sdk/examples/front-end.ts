// What a front end does with the SDK, compiled under `strict` with no casts and run against the demo server by CI
// (`npm run sdk:example`, from a new project that installs the packed SDK). Environment: PJ_BASE_URL, PJ_TOKEN (a
// member who may read patients and journeys), PJ_NO_PATIENTS_TOKEN (a member who may not: an analyst).
import { createPatientJourneyClient, iteratePatientProfiles, unwrap, type PatientListItem, type Problem } from '@patient-journey/sdk';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`Example failed: ${what}`);
  console.log(`ok  ${what}`);
}

async function main(): Promise<void> {
  const baseUrl = env('PJ_BASE_URL');
  // A token function is called before each request: a front end returns its current (refreshed) token here.
  const api = createPatientJourneyClient({ baseUrl, token: () => env('PJ_TOKEN') });

  // 1. Who am I, and in which organization?
  const me = unwrap(await api.GET('/api/v1/me'));
  const organizationId = me.memberships[0]?.organization_id;
  if (organizationId === undefined) throw new Error('The caller belongs to no organization');
  check(me.memberships.length > 0, `the caller is a member of ${me.memberships.length} organization(s)`);

  // 2. The first page of patients, highest risk first.
  const { data: page, error } = await api.GET('/api/v1/patients/{organizationId}/profiles', {
    params: { path: { organizationId }, query: { sort: 'risk_score', order: 'desc', limit: 50 } },
  });
  if (error) throw new Error(`listPatientProfiles: ${error.status} ${error.detail}`);
  const risks = page.patients.map((p) => p.risk_score);
  check(risks.every((r, i) => i === 0 || (risks[i - 1] ?? r) >= r), `the first page (${page.patients.length} patients) is sorted by risk, highest first`);

  // 3. Every patient of the clinic, page after page, with `for await`.
  const statuses: Record<PatientListItem['status'], number> = { active: 0, dormant: 0, at_risk: 0 };
  let seen = 0;
  for await (const patient of iteratePatientProfiles(api, organizationId, { sort: 'risk_score', limit: 500 })) {
    statuses[patient.status] += 1;
    seen += 1;
  }
  check(seen === page.total_count, `iterated every page: ${seen} patients of ${page.total_count}`);
  check(statuses.active + statuses.dormant + statuses.at_risk === seen, `by status: ${JSON.stringify(statuses)}`);

  // 4. One patient in full, and their journey.
  const first = page.patients[0];
  if (first === undefined) throw new Error('The clinic has no patients');
  const path = { organizationId, patientId: first.id };
  const { patient } = unwrap(await api.GET('/api/v1/patients/{organizationId}/profile/{patientId}', { params: { path } }));
  check(patient.id === first.id, `read the profile of the riskiest patient (risk level ${patient.risk_assessment.risk_level})`);
  const { journey } = unwrap(await api.GET('/api/v1/patients/{organizationId}/journey/{patientId}', { params: { path, query: { touchpoint_limit: 10 } } }));
  check(journey.patient_id === first.id, `read their journey: stage ${journey.current_stage}, ${journey.touchpoints.length} touchpoints`);

  // 5. A member without patients:read gets a typed problem, not a bare Response.
  const analyst = createPatientJourneyClient({ baseUrl, token: env('PJ_NO_PATIENTS_TOKEN') });
  const denied = await analyst.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId } } });
  const problem: Problem | undefined = denied.error;
  check(problem !== undefined && problem.status === 403 && denied.response.status === 403, `403 as a problem: ${problem?.title} (${problem?.type})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
