import type { Resource } from '@medplum/fhirtypes';
import { IMPORTED_TYPES, Mapped, mapResource } from 'src/fhir-import/domain/fhir-mapping';
import { issue } from 'src/fhir-import/domain/operation-outcome';
import { isFhirResourceType, validateFhirResource } from 'src/fhir-import/fhir-validator';

/** One resource to import, checked and mapped. */
export interface Prepared {
  resourceType: string;
  id: string | null;
  mapped: Mapped;
}

/**
 * Validates (Medplum's FHIR R4 validator, once per resource) and maps one parsed resource. Pure and synchronous: the
 * Bundle endpoint calls it in the request, the NDJSON import in its worker threads (fhir-prepare-pool.ts).
 */
export function prepareResource(value: unknown, source: string): Prepared {
  const resourceType =
    typeof (value as { resourceType?: unknown })?.resourceType === 'string' ? (value as { resourceType: string }).resourceType : 'unknown';
  const rawId = (value as { id?: unknown })?.id;
  const id = typeof rawId === 'string' ? rawId : null;
  // Types the import skips are only checked to be FHIR R4 resource types: validating what is not used costs time.
  if (resourceType !== 'unknown' && !IMPORTED_TYPES.has(resourceType) && isFhirResourceType(resourceType)) {
    return { resourceType, id, mapped: mapResource(value as Resource, source) };
  }
  const issues = validateFhirResource(value);
  if (issues.length > 0) return { resourceType, id, mapped: { kind: 'invalid', issues } };
  if (!id)
    return {
      resourceType,
      id,
      mapped: {
        kind: 'invalid',
        issues: [issue('required', 'A resource to import needs an id (or, in a Bundle, a urn:uuid: fullUrl)', `${resourceType}.id`)],
      },
    };
  return { resourceType, id, mapped: mapResource(value as Resource, source) };
}

/** The NDJSON import's two passes: every Patient first, then everything else. */
export type ImportPass = 'patients' | 'others';

/** What one NDJSON line gives in a pass: nothing (empty, or for the other pass), not JSON, or a prepared resource. */
export type LineResult = null | 'not-json' | Prepared;

/** A quick test for the lines of the first pass (patients); confirmed by parsing. */
export const PATIENT_LINE = /"resourceType"\s*:\s*"Patient"/;

/**
 * One NDJSON line in a pass: parsed, and prepared when it belongs to the pass. A line that is not JSON is reported
 * once, in the pass its quick test gives it to.
 */
export function prepareLine(raw: string, pass: ImportPass, source: string): LineResult {
  const line = raw.trim();
  if (line === '') return null;
  const candidate = PATIENT_LINE.test(line);
  if (pass === 'patients' && !candidate) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return (pass === 'patients') === candidate ? 'not-json' : null;
  }
  const isPatient = (value as { resourceType?: unknown })?.resourceType === 'Patient';
  if ((pass === 'patients') !== isPatient) return null;
  return prepareResource(value, source);
}
