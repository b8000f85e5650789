import type { PatientJourneyClient } from './client.js';
import type { components, operations } from './openapi.js';
import { unwrap } from './problem.js';

type Schemas = components['schemas'];

/** The patient list's filters and sort (the iterator owns `cursor`; `offset` does not mix with it). */
export type PatientProfilesQuery = Omit<NonNullable<operations['listPatientProfiles']['parameters']['query']>, 'cursor' | 'offset'>;
/** The audit trail's filters (the iterator owns `cursor`). */
export type AuditEventsQuery = Omit<NonNullable<operations['listAuditEvents']['parameters']['query']>, 'cursor'>;

/** Every page of the patient list, following `next_cursor` until the last page. Throws a ProblemError on a failure. */
export async function* patientProfilePages(
  client: PatientJourneyClient,
  organizationId: string,
  query: PatientProfilesQuery = {},
): AsyncGenerator<Schemas['ProfilesResponse'], void, undefined> {
  let cursor: string | undefined;
  do {
    const page = unwrap(await client.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId }, query: { ...query, cursor } } }));
    yield page;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}

/** Every patient of the list, page after page: `for await (const patient of iteratePatientProfiles(api, orgId, { sort: 'risk_score' }))`. */
export async function* iteratePatientProfiles(
  client: PatientJourneyClient,
  organizationId: string,
  query: PatientProfilesQuery = {},
): AsyncGenerator<Schemas['PatientListItem'], void, undefined> {
  for await (const page of patientProfilePages(client, organizationId, query)) yield* page.patients;
}

/** Every audit event matching `query`, newest first, following `next_cursor`. Throws a ProblemError on a failure. */
export async function* iterateAuditEvents(
  client: PatientJourneyClient,
  organizationId: string,
  query: AuditEventsQuery = {},
): AsyncGenerator<Schemas['AuditEventResponse'], void, undefined> {
  let cursor: string | undefined;
  do {
    const page = unwrap(await client.GET('/api/v1/audit/{organizationId}/events', { params: { path: { organizationId }, query: { ...query, cursor } } }));
    yield* page.events;
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined);
}
