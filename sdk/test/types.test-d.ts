// Type tests of the SDK's public types (`npm run typecheck` in sdk/, and so CI): they pass when this file compiles.
// Each `@ts-expect-error` is a wrong use that must NOT compile: if it ever compiles, tsc fails on the directive.
import { expectTypeOf } from 'expect-type';
import {
  createPatientJourneyClient,
  iteratePatientProfiles,
  unwrap,
  type AuditEventResponse,
  type PatientJourneyClient,
  type PatientListItem,
  type PatientProfile,
  type Problem,
  type ProfilesResponse,
  type RiskSummaryResponse,
} from '@patient-journey/sdk';

// Exact field types, as openapi.json says: enums as unions, nullable as `| null`, no `any`.
expectTypeOf<PatientListItem['status']>().toEqualTypeOf<'active' | 'dormant' | 'at_risk'>();
expectTypeOf<PatientListItem['phone']>().toEqualTypeOf<string | null>();
expectTypeOf<PatientListItem['last_appointment']>().toEqualTypeOf<string | null>();
expectTypeOf<PatientListItem['total_sessions']>().toEqualTypeOf<number>();
expectTypeOf<ProfilesResponse['next_cursor']>().toEqualTypeOf<string | null>();
expectTypeOf<PatientProfile['medical_info']>().toEqualTypeOf<{ conditions: string[]; allergies: string[]; medications: string[] } | null>();
expectTypeOf<PatientProfile['risk_assessment']['risk_level']>().toEqualTypeOf<'low' | 'medium' | 'high'>();
expectTypeOf<RiskSummaryResponse['total_patients']>().toEqualTypeOf<number>();
expectTypeOf<Problem['status']>().toEqualTypeOf<number>();
expectTypeOf<Problem['errors']>().toEqualTypeOf<{ in?: 'query' | 'path' | 'body' | 'header'; field: string; message: string }[] | undefined>();
expectTypeOf<PatientListItem>().not.toBeAny();
expectTypeOf<AuditEventResponse['query']>().not.toBeAny();

declare const api: PatientJourneyClient;

export async function typedCalls(): Promise<void> {
  const page = await api.GET('/api/v1/patients/{organizationId}/profiles', {
    params: { path: { organizationId: 'org' }, query: { sort: 'risk_score', order: 'desc', status: 'at_risk', limit: 100 } },
  });
  expectTypeOf(page.data).toEqualTypeOf<ProfilesResponse | undefined>();
  expectTypeOf(page.error).toEqualTypeOf<Problem | undefined>();
  if (page.error) expectTypeOf(page.error.detail).toEqualTypeOf<string>();

  expectTypeOf(unwrap(page)).toEqualTypeOf<ProfilesResponse>();
  for await (const patient of iteratePatientProfiles(api, 'org', { sort: 'risk_score' })) expectTypeOf(patient).toEqualTypeOf<PatientListItem>();

  const revoked = await api.DELETE('/api/v1/organizations/{organizationId}/api-keys/{keyId}', { params: { path: { organizationId: 'org', keyId: 'key' } } });
  expectTypeOf(revoked.error).toEqualTypeOf<Problem | undefined>();
}

export async function wrongUses(): Promise<void> {
  // @ts-expect-error: no such sort key
  await api.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: 'org' }, query: { sort: 'risk' } } });
  // @ts-expect-error: the path parameter is required
  await api.GET('/api/v1/patients/{organizationId}/profile/{patientId}', { params: { path: { organizationId: 'org' } } });
  // @ts-expect-error: no such path
  await api.GET('/api/v1/patients/{organizationId}/profile', { params: { path: { organizationId: 'org' } } });
  // @ts-expect-error: limit is a number
  await api.GET('/api/v1/patients/{organizationId}/profiles', { params: { path: { organizationId: 'org' }, query: { limit: '100' } } });
  // @ts-expect-error: a status the API never answers
  const archived: PatientListItem['status'] = 'archived';
  // @ts-expect-error: phone may be null
  const digits: string = ({} as PatientListItem).phone;
  // @ts-expect-error: a problem has no `message`
  const message: unknown = ({} as Problem).message;
  // @ts-expect-error: the token is a string or a function returning one
  createPatientJourneyClient({ baseUrl: 'http://localhost:3000', token: 42 });
  void [archived, digits, message];
}
