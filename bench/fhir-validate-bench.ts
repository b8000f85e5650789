/**
 * CPU per resource of the FHIR validation (`npm run bench:fhir-validate`): Medplum's `validateResource` alone (the
 * rule, and what the import ran before) against `validateFhirResource` (the FHIR R4 JSON schema by ajv and the
 * invariants, Medplum only for what they refuse), on the resources of the 13-patient Synthea export and the claims
 * fixture. CPU time of this process (`process.cpuUsage`), after a warm-up: it does not depend on the machine's load as
 * wall time does.
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from 'src/fhir-import/fhir-schema';
import { validateFhirResource } from 'src/fhir-import/fhir-validator';
import { bulkFile, claimsFile, type Json, resources } from 'test/fhir-import/fhir-fixtures';

function medplum(value: Json): void {
  try {
    validateResource(value as Resource);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
  }
}

function cpuMicros(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

loadFhirDefinitions();
const sets: [string, Json[]][] = [
  ...['Patient', 'Encounter', 'Condition', 'MedicationRequest', 'AllergyIntolerance'].map((t): [string, Json[]] => [
    t,
    resources(bulkFile(t)),
  ]),
  ['Claim + ExplanationOfBenefit', resources(claimsFile())],
];
console.log('type                          n     Medplum µs/resource   schema+invariants µs/resource   ratio');
for (const [name, list] of sets) {
  const rounds = Math.max(2, Math.ceil(4000 / list.length));
  for (const r of list) {
    medplum(r);
    validateFhirResource(r);
  }
  const before = cpuMicros(() => {
    for (let i = 0; i < rounds; i++) for (const r of list) medplum(r);
  });
  const after = cpuMicros(() => {
    for (let i = 0; i < rounds; i++) for (const r of list) validateFhirResource(r);
  });
  const per = (us: number): number => us / rounds / list.length;
  console.log(
    `${name.padEnd(28)} ${String(list.length).padStart(5)} ${per(before).toFixed(1).padStart(12)} ${per(after).toFixed(1).padStart(24)} ${(before / after).toFixed(1).padStart(14)}x`,
  );
}
