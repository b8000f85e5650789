// The typed client of the patient journey API. Generated: src/openapi.ts (`npm run generate` from ../openapi.json).
// Written by hand, only where the generator cannot help: the client factory with its token, the problem errors,
// and the iterators over paged lists.
export { createPatientJourneyClient } from './client.js';
export type { ClientOptions, PatientJourneyClient, TokenSource } from './client.js';
export { isProblem, ProblemError, unwrap } from './problem.js';
export type { CallResult, FieldError, Problem } from './problem.js';
export { iterateAuditEvents, iteratePatientProfiles, patientProfilePages } from './pagination.js';
export type { AuditEventsQuery, PatientProfilesQuery } from './pagination.js';
export type { components, operations, paths } from './openapi.js';

import type { components } from './openapi.js';
type Schemas = components['schemas'];

/** The answers the front end reads most, by name. */
export type ProfilesResponse = Schemas['ProfilesResponse'];
export type PatientListItem = Schemas['PatientListItem'];
export type PatientStatus = PatientListItem['status'];
export type ProfileResponse = Schemas['ProfileResponse'];
export type PatientProfile = Schemas['PatientProfile'];
export type JourneyResponse = Schemas['JourneyResponse'];
export type RiskSummaryResponse = Schemas['RiskSummaryResponse'];
export type OpportunitiesResponse = Schemas['OpportunitiesResponse'];
export type OpportunityResponse = Schemas['OpportunityResponse'];
export type EngagementOverviewResponse = Schemas['EngagementOverviewResponse'];
export type AuditEventResponse = Schemas['AuditEventResponse'];
export type MeResponse = Schemas['MeResponse'];
