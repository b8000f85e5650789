import { createPatientJourneyClient, PatientJourneyClient } from '@patient-journey/sdk';
import type { TestApp } from 'test/utils/test-app';

/**
 * The SDK (sdk/, what front ends install) against the test app over real HTTP: the e2e tests of the patient
 * endpoints make their happy-path calls through it, so every run proves the SDK against the running server.
 */
export async function sdkClient(t: TestApp, token: string): Promise<PatientJourneyClient> {
  return createPatientJourneyClient({ baseUrl: await t.url(), token });
}
