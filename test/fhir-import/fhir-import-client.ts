import type { Response as LightMyRequestResponse } from 'light-my-request';
import { bearer } from 'test/auth/auth-fixtures';
import type { Json } from 'test/fhir-import/fhir-fixtures';
import { eventually } from 'test/utils/eventually';
import type { TestApp } from 'test/utils/test-app';

/** The answer of an import's `POST`, polled until it is done: the final status (asserted `succeeded`). */
export async function importDone(t: TestApp, token: string, start: LightMyRequestResponse, timeoutMs = 120_000): Promise<Json> {
  expect({ status: start.statusCode, body: start.statusCode === 202 ? null : start.body }).toEqual({ status: 202, body: null });
  const done = await eventually(
    () => t.inject({ method: 'GET', url: start.headers['content-location'] as string, headers: bearer(token) }),
    (r) => r.statusCode !== 202,
    { timeoutMs, intervalMs: 200, what: 'the import' },
  );
  expect(done.statusCode).toBe(200);
  const status = done.json<Json>();
  expect(status.status).toBe('succeeded');
  return status;
}

/** A finished import's rejected lines: its OperationOutcomes. */
export async function importOutcomes(t: TestApp, token: string, status: Json): Promise<Json[]> {
  const out = await t.inject({ method: 'GET', url: status.outcomes_url as string, headers: bearer(token) });
  expect(out.statusCode).toBe(200);
  return out.body
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}
