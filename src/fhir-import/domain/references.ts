import type { Reference } from '@medplum/fhirtypes';

const PATIENT_REF = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** The patient id a reference names (`Patient/123`, an absolute URL ending so, or `_history` of it); null otherwise. */
export function patientIdOf(reference: Reference | undefined): string | null {
  const ref = reference?.reference;
  if (typeof ref !== 'string') return null;
  const m = PATIENT_REF.exec(ref);
  return m ? m[1] : null;
}

/**
 * Rewrites every `reference` equal to a key of `byFullUrl` (a transaction's `urn:uuid:` full URLs) to the
 * `Type/id` it stands for, anywhere in the resource (references nest: participants, items, contained...). Returns
 * a copy; the input is left alone.
 */
export function rewriteReferences<T>(value: T, byFullUrl: ReadonlyMap<string, string>): T {
  if (byFullUrl.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        out[k] = k === 'reference' && typeof x === 'string' && byFullUrl.has(x) ? byFullUrl.get(x) : walk(x);
      return out;
    }
    return v;
  };
  return walk(value) as T;
}
