import { HttpStatus } from '@nestjs/common';
import { ProblemCode, ProblemException } from 'src/common/problem/problem';

/** The source of records imported from FHIR when neither the request nor the Bundle names one. */
export const DEFAULT_FHIR_SOURCE = 'fhir';
const SOURCE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/**
 * The source the imported records are keyed by: the request's `source`, else the Bundle's `meta.source`, else
 * `fhir`. One source per import (not per resource), so that references between its resources resolve.
 */
export function resolveSource(requested: string | undefined, bundleSource: string | undefined): string {
  if (requested !== undefined) {
    if (!SOURCE.test(requested)) {
      throw new ProblemException(ProblemCode.ValidationFailed, HttpStatus.BAD_REQUEST, 'source must be 1 to 64 letters, digits or ._:/-', [
        { field: 'source', message: 'must be 1 to 64 letters, digits or ._:/-' },
      ]);
    }
    return requested;
  }
  if (typeof bundleSource === 'string' && SOURCE.test(bundleSource)) return bundleSource;
  return DEFAULT_FHIR_SOURCE;
}
