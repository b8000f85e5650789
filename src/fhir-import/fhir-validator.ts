import { isResourceType, OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from 'src/fhir-import/domain/operation-outcome';
import { invariantsHold, loadFhirDefinitions, schemaValidator } from 'src/fhir-import/fhir-schema';

const ensureLoaded = loadFhirDefinitions;

/**
 * The error issues of one resource against the FHIR R4 base definitions (Medplum's validator: required elements,
 * cardinalities, primitive formats such as dates, unknown elements and resource types, invariants). Empty when valid.
 * The messages are the library's and name elements, never values (no PHI). Fast path first (fhir-schema.ts: the FHIR
 * R4 JSON schema by ajv, then the invariants): a resource it accepts is one Medplum accepts; only the others are run
 * through Medplum's validator (about ten times slower), whose verdict and messages stand.
 */
export function validateFhirResource(value: unknown): OperationOutcomeIssue[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [issue('structure', 'A resource must be a JSON object')];
  const type = (value as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') return [issue('required', 'Missing resourceType', 'resourceType')];
  ensureLoaded();
  if (isResourceType(type)) {
    const schema = schemaValidator(type);
    if (schema?.(value) && invariantsHold(value as { resourceType: string })) return [];
  }
  try {
    return validateResource(value as Resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
  } catch (err) {
    if (err instanceof OperationOutcomeError)
      return (err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    return [issue('invalid', err instanceof Error ? err.message : 'Invalid resource')];
  }
}

/** Whether `type` is a FHIR R4 resource type (by the loaded definitions). */
export function isFhirResourceType(type: string): boolean {
  ensureLoaded();
  return isResourceType(type);
}
