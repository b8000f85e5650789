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
 * A logical reference's stand-in for the patient's id until the import resolves it (FhirImporter): a NUL first, so it
 * is never a FHIR id (`[A-Za-z0-9\-.]`), then the identifier's system and value (validated FHIR strings: no NUL).
 */
const LOGICAL = '\u0000identifier\u0000';

export interface LogicalPatientRef {
  system: string;
  value: string;
}

/**
 * The patient a reference names: the id of a literal reference (`Patient/123`), else, for a logical reference
 * (`{ identifier: { system, value } }`, as EHR exports send), a stand-in that the import resolves to the patient
 * imported with that identifier (`logicalRefOf`). `typed`: a logical reference counts only with `type: "Patient"`
 * (where the element may name other kinds: an Appointment's participants, an Invoice's recipient...); elsewhere a
 * `type` other than Patient (a Group) is not a patient. Null when it names no patient.
 */
export function patientRefOf(reference: Reference | undefined, typed = false): string | null {
  const id = patientIdOf(reference);
  if (id !== null) return id;
  if (!reference || typeof reference.reference === 'string') return null;
  const identifier = reference.identifier;
  if (!identifier || typeof identifier.value !== 'string' || identifier.value === '') return null;
  if (reference.type !== undefined ? reference.type !== 'Patient' : typed) return null;
  return `${LOGICAL}${identifier.system ?? ''}\u0000${identifier.value}`;
}

/** The identifier of a logical patient reference (`patientRefOf`), or null for a patient id. */
export function logicalRefOf(ref: string): LogicalPatientRef | null {
  if (!ref.startsWith(LOGICAL)) return null;
  const rest = ref.slice(LOGICAL.length);
  const at = rest.indexOf('\u0000');
  return { system: rest.slice(0, at), value: rest.slice(at + 1) };
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
